"""Dagster ingestion assets: one raw-table asset per feed of the registry, partitioned by business date."""
from typing import TYPE_CHECKING

import dagster as dg

from assets.common.errors import FeedError
from assets.common.partitions import business_days
from assets.common.resources import WRITER_POOL, LandingResource, WarehouseResource
from assets.ingest.feeds import CUSTODY_FEEDS, TABLE_FEEDS, Feed

if TYPE_CHECKING:  # the loader (polars, pyarrow) is imported when a partition loads, not with the definitions
    from assets.ingest.load import FeedLoad

OWNER = "team:data-platform"
INGEST_GROUP = "ingest"


def raw_key(feed_name: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", feed_name])


def _files_markdown(res: "FeedLoad") -> str:
    lines = ["| file | rows | loaded | quarantined | SHA-256 |", "|---|---:|---:|---:|---|"]
    for f in res.files:
        lines.append(f"| `{f['file']}` | {f['rows_in_file']:,} | {f['rows_loaded']:,} | {f['rows_quarantined']:,} "
                     f"| `{f['sha256'][:16]}…` |")
    return "\n".join(lines)


def _metadata(res: "FeedLoad") -> dict:
    meta = {
        "dagster/row_count": dg.MetadataValue.int(res.rows_loaded),
        "rows_in_files": dg.MetadataValue.int(res.rows_in_files),
        "rows_quarantined": dg.MetadataValue.int(res.rows_quarantined),
        "files": dg.MetadataValue.int(len(res.files)),
        "file_manifest": dg.MetadataValue.md(_files_markdown(res)),
        "unchanged": res.unchanged,
    }
    if res.warnings:
        meta["warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in res.warnings))
    return meta


def _run(context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource,
         feed_name: str) -> dict[str, "FeedLoad"]:
    from assets.ingest.load import load_feed

    day = context.partition_key
    try:
        with warehouse.connect() as con:
            return load_feed(con, landing.root, day, feed_name, run_id=context.run.run_id, lake=warehouse.lake,
                             max_custody_bytes=landing.max_custody_mb << 20)
    except FeedError as exc:
        # Fail the partition with the file, row and rule in the message; nothing was replaced.
        raise dg.Failure(description=f"{feed_name} {day}: {exc}",
                         metadata={"file": exc.file, "row": str(exc.row), "rule": exc.rule}) from exc


def _column_schema(feed: Feed) -> dg.TableSchema:
    return dg.TableSchema(columns=[
        dg.TableColumn(c.name, c.sql_type, description=c.description or None,
                       constraints=dg.TableColumnConstraints(nullable=not c.required))
        for c in feed.columns
    ])


def build_table_asset(feed: Feed) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_key(feed.name),
        description=f"{feed.description}\n\nLanding: `<date>/{feed.folder}/{' | '.join(feed.patterns)}` → `{feed.table}`.",
        group_name=INGEST_GROUP,
        partitions_def=business_days,
        kinds={"duckdb", "polars"},
        owners=[OWNER],
        tags={"layer": "raw", "feed": feed.folder},
        metadata={"dagster/column_schema": _column_schema(feed), "dagster/table_name": feed.table},
        pool=WRITER_POOL,
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               landing: LandingResource) -> dg.MaterializeResult:
        res = _run(context, warehouse, landing, feed.name)[feed.name]
        return dg.MaterializeResult(metadata=_metadata(res))

    _asset.__name__ = f"raw_{feed.name}"
    return _asset


@dg.multi_asset(
    name="raw_custody",
    specs=[
        dg.AssetSpec(raw_key(f.name), description=f.description + "\n\nLanding: `<date>/custody/*.xml` "
                     "(ISO 20022 camt.053) or `entries.csv` + `balances.csv`.",
                     group_name=INGEST_GROUP, kinds={"duckdb", "xml"}, owners=[OWNER],
                     tags={"layer": "raw", "feed": "custody"},
                     metadata={"dagster/column_schema": _column_schema(f), "dagster/table_name": f.table})
        for f in CUSTODY_FEEDS
    ],
    partitions_def=business_days,
    pool=WRITER_POOL,
)
def raw_custody(context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource):
    """Custody statements: both custody tables are loaded together from the same files."""
    results = _run(context, warehouse, landing, CUSTODY_FEEDS[0].name)
    for feed in CUSTODY_FEEDS:
        yield dg.MaterializeResult(asset_key=raw_key(feed.name), metadata=_metadata(results[feed.name]))


ingest_assets: list[dg.AssetsDefinition] = [build_table_asset(f) for f in TABLE_FEEDS] + [raw_custody]
