"""Quality gates on the raw feeds as blocking Dagster asset checks.

Per feed and business date:
- ``gx_suite``: the feed's Great Expectations suite (assets/quality/suites.py) over the partition;
- ``quarantine_policy``: rows the loader quarantined; whether they block publication is the policy
  ``MARGINFLOW_QUARANTINE_POLICY`` (``block``, the default: figures built on a feed with quarantined
  rows are not published; ``warn``: publish, and show the quarantine as a warning).
A failed blocking check stops everything downstream of that feed in the run (dbt models, reports).
"""
import os

import dagster as dg

from assets.common.partitions import business_days  # noqa: F401 - checks run per asset partition
from assets.common.resources import WRITER_POOL, WarehouseResource
from assets.ingest.assets import raw_key
from assets.ingest.feeds import FEEDS, Feed

SAMPLE_ROWS = 5


def quarantine_policy() -> str:
    policy = os.environ.get("MARGINFLOW_QUARANTINE_POLICY", "block").lower()
    if policy not in ("block", "warn"):
        raise ValueError(f"MARGINFLOW_QUARANTINE_POLICY must be block or warn, got {policy!r}")
    return policy


def _gx_result(feed: Feed, day: str, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from assets.quality.gx_runner import validate_partition  # GX loads in ~4 s: only when a check runs

    with warehouse.connect(read_only=True) as con:
        report = validate_partition(con, feed, day, sample_rows=SAMPLE_ROWS)
    failures = report.failures
    meta: dict = {
        "feed": feed.name,
        "business_date": day,
        "rows_validated": dg.MetadataValue.int(report.rows_validated),
        "expectations": dg.MetadataValue.int(len(report.outcomes)),
        "expectations_failed": dg.MetadataValue.int(len(failures)),
        "unexpected_rows": dg.MetadataValue.int(sum(o.unexpected_count for o in failures)),
        "results": dg.MetadataValue.md(report.to_markdown()),
    }
    if failures:
        meta["failures"] = dg.MetadataValue.md("\n".join(f"- {o.message}" for o in failures))
        meta["sample_rows"] = dg.MetadataValue.json(
            {o.check: o.samples[:SAMPLE_ROWS] for o in failures if o.samples})
    return dg.AssetCheckResult(asset_key=raw_key(feed.name), passed=report.success,
                               severity=dg.AssetCheckSeverity.ERROR, metadata=meta,
                               description=failures[0].message if failures else "all expectations met")


def _quarantine_result(feed: Feed, day: str, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(
            "select rule, \"column\", reason, _source_file, _source_row from raw.quarantine "
            "where feed = ? and business_date = ? order by _source_file, length(_source_row), _source_row",
            [feed.name, day]).fetchall()
        by_rule = con.execute("select rule, count(*) from raw.quarantine where feed = ? and business_date = ? "
                              "group by 1 order by 2 desc", [feed.name, day]).fetchall()
    n = sum(c for _, c in by_rule)
    policy = quarantine_policy()
    meta = {"policy": policy, "rows_quarantined": dg.MetadataValue.int(n), "feed": feed.name, "business_date": day}
    if n:
        meta["by_rule"] = dg.MetadataValue.md("\n".join(f"- `{r}`: {c:,}" for r, c in by_rule))
        meta["sample_rows"] = dg.MetadataValue.json(
            [dict(zip(("rule", "column", "reason", "file", "row"), r)) for r in rows[:SAMPLE_ROWS]])
        first = rows[0]
        description = (f"{n:,} {feed.name} row(s) quarantined, e.g. {first[3]}:{first[4]}: {first[0]}: {first[2]}")
    else:
        description = "no row quarantined"
    return dg.AssetCheckResult(
        asset_key=raw_key(feed.name), passed=n == 0,
        severity=dg.AssetCheckSeverity.ERROR if policy == "block" else dg.AssetCheckSeverity.WARN,
        metadata=meta, description=description)


# Bump when the suites or the quarantine logic change: earlier passes on the same files are not reused.
SUITE_VERSION = "1"


def _gated(feed: Feed, gate: str, day: str, blocking: bool, run_id: str, warehouse: WarehouseResource,
           evaluate) -> dg.AssetCheckResult:
    """Run a feed gate and keep its outcome in quality.gate_log (publication reads it). A gate that
    passed on exactly the same files (SHA-256) is not run again: its earlier result is reused."""
    from assets.ingest.load import LOADER_VERSION
    from assets.quality.gate_log import input_digest, passed_before, record

    with warehouse.connect(read_only=True) as con:
        digest = input_digest(con, feed.name, day, f"{LOADER_VERSION}/{SUITE_VERSION}/{gate}")
        earlier = passed_before(con, day, gate, digest)
    if earlier is not None:
        return dg.AssetCheckResult(asset_key=raw_key(feed.name), passed=True,
                                   description=f"{earlier} (unchanged inputs: earlier result reused)",
                                   metadata={"reused": True, "input_digest": digest, "feed": feed.name,
                                             "business_date": day})
    result = evaluate()
    with warehouse.connect() as con:
        record(con, [day], gate, result.passed, blocking=blocking, detail=result.description or "", run_id=run_id,
               input_digest=digest)
    return result


def build_feed_checks(feed: Feed) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(asset=raw_key(feed.name), name="gx_suite", blocking=True, pool=WRITER_POOL,
                    description=f"Great Expectations suite `{feed.name}`: schema, not null, accepted values, "
                                "ranges, formats, key uniqueness, row counts against the file manifest.")
    def gx_suite(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        day = context.op_execution_context.partition_key
        return _gated(feed, f"gx_suite:{feed.name}", day, True, context.run.run_id, warehouse,
                      lambda: _gx_result(feed, day, warehouse))

    @dg.asset_check(asset=raw_key(feed.name), name="quarantine_policy", blocking=True, pool=WRITER_POOL,
                    description="Rows quarantined at load (rule, reason, file and row in the metadata). Policy "
                                "MARGINFLOW_QUARANTINE_POLICY=block (default) fails the gate; warn lets it pass "
                                "with a warning.")
    def quarantine(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        day = context.op_execution_context.partition_key
        blocking = quarantine_policy() == "block"
        return _gated(feed, f"quarantine_policy:{feed.name}:{quarantine_policy()}", day, blocking,
                      context.run.run_id, warehouse, lambda: _quarantine_result(feed, day, warehouse))

    gx_suite.__name__ = f"gx_suite_{feed.name}"
    quarantine.__name__ = f"quarantine_policy_{feed.name}"
    return [gx_suite, quarantine]


feed_checks: list[dg.AssetChecksDefinition] = [c for f in FEEDS for c in build_feed_checks(f)]
