"""Ingestion assets run through Dagster for one business date, with row-count metadata and failures that name the file."""
from __future__ import annotations

import shutil

import dagster as dg
import duckdb

from assets.common.resources import LandingResource, ReportsResource, WarehouseResource
from assets.ingest.assets import ingest_assets
from assets.ingest.load import business_dates


def _resources(tmp_path, landing):
    return {
        "warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb"), lake_dir=str(tmp_path / "lake")),
        "landing": LandingResource(root=str(landing)),
        "reports": ReportsResource(root=str(tmp_path / "reports")),
    }


def test_partition_materialises_with_row_counts(sample_landing, tmp_path):
    day = business_dates(sample_landing)[0]
    result = dg.materialize(ingest_assets, partition_key=day, resources=_resources(tmp_path, sample_landing))
    assert result.success
    mats = {m.asset_key.to_user_string(): m for m in result.get_asset_materialization_events()}
    assert len(mats) == 10
    trades = mats["raw/trades"].materialization.metadata
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        n = con.execute("select count(*) from raw.trades").fetchone()[0]
    assert trades["dagster/row_count"].value == n > 0
    assert trades["rows_quarantined"].value == 0
    assert "trades.csv" in trades["file_manifest"].value


def test_missing_feed_fails_the_partition_naming_it(sample_landing, tmp_path):
    day = business_dates(sample_landing)[0]
    landing = tmp_path / "landing"
    shutil.copytree(sample_landing / day, landing / day)
    shutil.rmtree(landing / day / "market")
    result = dg.materialize(ingest_assets, partition_key=day, resources=_resources(tmp_path, landing),
                            raise_on_error=False)
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert len(failures) == 1
    message = failures[0].event_specific_data.error.message
    assert f"{day}/market" in message and "layout.feed_missing" in message
