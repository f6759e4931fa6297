"""Schedules, the landing sensor, the one-writer rule under a parallel backfill, and the publication gate."""
from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.ingest.load import business_dates
from orchestration.schedules import (
    daily_after_cutoff,
    is_first_business_day_of_month,
    monthly_reports,
    previous_business_day,
    previous_month_key,
)

SH = dt.timezone(dt.timedelta(hours=8))


def test_business_day_helpers():
    assert previous_business_day(dt.date(2026, 9, 7)) == dt.date(2026, 9, 4)  # Monday -> Friday
    assert previous_business_day(dt.date(2026, 9, 8)) == dt.date(2026, 9, 7)
    assert is_first_business_day_of_month(dt.date(2026, 11, 2))  # Nov 1st 2026 is a Sunday
    assert not is_first_business_day_of_month(dt.date(2026, 11, 3))
    assert previous_month_key(dt.date(2026, 10, 1)) == "2026-09"


def test_daily_schedule_runs_the_previous_business_day():
    ctx = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 9, 7, 15, 30, tzinfo=SH))
    req = daily_after_cutoff(ctx)
    assert req.partition_key == "2026-09-04"


def test_monthly_schedule_only_on_first_business_day():
    skip = monthly_reports(dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 10, 2, 18, 0, tzinfo=SH)))
    assert isinstance(skip, dg.SkipReason)
    req = monthly_reports(dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 10, 1, 18, 0, tzinfo=SH)))
    assert req.partition_key == "2026-09"


def test_sensor_starts_a_run_for_a_complete_folder_only(sample_landing, tmp_path, monkeypatch):
    from orchestration.sensors import landing_folder_sensor

    days = business_dates(sample_landing)[:2]
    for d in days:
        shutil.copytree(sample_landing / d, tmp_path / d)
    shutil.rmtree(tmp_path / days[1] / "market")  # the second day is still arriving
    monkeypatch.setenv("MARGINFLOW_LANDING", str(tmp_path))
    result = landing_folder_sensor(dg.build_sensor_context())
    keys = [r.partition_key for r in result]
    assert keys == [days[0]]
    # a re-delivered file changes the fingerprint: a new run key for the same date
    first_key = result[0].run_key
    os.utime(tmp_path / days[0] / "ledger" / "ledger.csv", (1, 1))
    assert landing_folder_sensor(dg.build_sensor_context())[0].run_key != first_key


def _materialize_day(args: tuple[str, str, str]) -> bool:
    landing, warehouse, day = args
    from assets.common.resources import LandingResource, ReportsResource, WarehouseResource
    from assets.ingest.assets import ingest_assets

    res = dg.materialize(ingest_assets, partition_key=day, raise_on_error=False, resources={
        "warehouse": WarehouseResource(path=warehouse, lake_dir=str(Path(warehouse).parent / "lake")),
        "landing": LandingResource(root=landing), "reports": ReportsResource(root="/tmp/unused")})
    return res.success


def test_parallel_backfill_of_several_partitions_never_hits_the_lock(sample_landing, tmp_path):
    """Three business dates ingested by three processes at once into one DuckDB file: writers queue
    for the lock (assets.common.warehouse.connect) instead of failing with 'Could not set lock'."""
    days = business_dates(sample_landing)[:3]
    warehouse = str(tmp_path / "warehouse.duckdb")
    with mp.get_context("spawn").Pool(3) as pool:
        results = pool.map(_materialize_day, [(str(sample_landing), warehouse, d) for d in days])
    assert results == [True, True, True]
    with duckdb.connect(warehouse, read_only=True) as con:
        got = [r[0] for r in con.execute("select distinct _business_date::varchar from raw.trades order by 1").fetchall()]
        files = con.execute("select count(*) from raw.file_manifest").fetchone()[0]
    assert got == days
    assert files == 3 * (8 + 4 + 4)  # per day: 8 table feeds, 4 custody XML files for each custody table


def test_no_report_when_a_gate_failed(built_warehouse, tmp_path):
    """A failed gate for one business date of the month means no regulatory report for that month."""
    from assets.common.resources import ReportsResource, WarehouseResource
    from assets.quality.gate_log import record
    from assets.reports.assets import regulatory_report

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, wh)
    with duckdb.connect(str(wh)) as con:
        days = [r[0].isoformat() for r in con.execute(
            "select distinct business_date from raw.file_manifest order by 1").fetchall()]
        for gate in ("gx_suite:trades", "quarantine_policy:trades", "dbt_build"):
            record(con, days, gate, True)
        record(con, [days[5]], "gx_suite:ledger_entries", False, detail="ledger.amount_sign failed for 1 row")
    reports = tmp_path / "reports"
    resources = {"warehouse": WarehouseResource(path=str(wh), lake_dir=str(tmp_path / "lake")),
                 "reports": ReportsResource(root=str(reports))}
    with pytest.raises(dg.Failure, match=f"not published.*{days[5]}.*gx_suite:ledger_entries"):
        regulatory_report(dg.build_asset_context(partition_key="2026-09", resources=resources))
    assert not list(reports.rglob("*.pdf"))


def test_no_report_when_an_earlier_date_was_reloaded_after_the_build(built_warehouse, tmp_path):
    """Positions carry forward: re-loading a date after later dates were built makes their marts stale,
    so the month is not published until those dates are re-run."""
    from assets.quality.gate_log import period_gate_problems, record

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, wh)
    with duckdb.connect(str(wh)) as con:
        con.execute("SET TimeZone = 'UTC'")
        days = [r[0] for r in con.execute("select distinct business_date from raw.file_manifest order by 1").fetchall()]
        iso = [d.isoformat() for d in days]
        for gate in ("gx_suite:trades", "quarantine_policy:trades", "dbt_build"):
            record(con, iso, gate, True)
        assert period_gate_problems(con, days[0], days[-1]) == []
        # the fourth date is re-delivered and re-loaded after the builds (which ran an hour ago)
        con.execute("update raw.file_manifest set loaded_at = loaded_at - interval 2 hour")
        con.execute("update quality.gate_log set checked_at = checked_at - interval 1 hour")
        con.execute("update raw.file_manifest set loaded_at = (select max(checked_at) from quality.gate_log) "
                    "+ interval 1 minute where business_date = ?", [days[3]])
        problems = period_gate_problems(con, days[0], days[-1])
        stale = sorted({p.split(":")[0] for p in problems})
        assert stale == iso[3:], problems
        assert all(f"{iso[3]} was re-loaded" in p for p in problems)
        # re-running the dates from the fourth on (their dbt gates again) clears it
        record(con, iso[3:], "dbt_build", True)
        assert period_gate_problems(con, days[0], days[-1]) == []
