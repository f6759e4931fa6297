"""Report assets: the month's regulatory disclosure and every provider's statement.

Both are published only when every business date of the month passed every gate
(quality.gate_log): a failed gate means no report for that period, not a report built on bad data.
"""
import calendar
import datetime as dt

import dagster as dg

from assets.common.partitions import business_months
from assets.common.resources import WRITER_POOL, ReportsResource, WarehouseResource

REPORTS_GROUP = "reports"
OWNER = "team:compliance"

# what the reports read (monthly and daily marts); monthly partitions map to the month's days
MART_DEPS = [dg.AssetKey(["marts", name]) for name in (
    "rpt_utilization_monthly", "rpt_default_ratio_monthly", "rpt_liquidation_latency_monthly",
    "rpt_margin_calls_monthly", "rpt_income_waterfall_monthly", "rpt_provider_capital_monthly",
    "rpt_reserve_coverage_monthly", "fct_utilization_daily", "fct_provider_capital_daily",
    "fct_leverage_distribution_daily", "fct_collateral_buckets_daily", "fct_margin_calls_daily",
    "fct_liquidations", "fct_stress_daily", "fct_reserve_coverage_daily", "fct_client_money_daily",
    "fct_reconciliation_items", "fct_concentration_daily", "fct_liquidity_coverage_daily",
    "fct_margin_recommendation_daily", "fct_data_quality_daily", "fct_interest_daily", "fct_defaults",
    "fct_loss_allocations",
)]


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    y, m = map(int, month.split("-"))
    return dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])


def publication_gate(warehouse: WarehouseResource, start: dt.date, end: dt.date) -> list[dict]:
    """The period's gate results for the lineage appendix; raises when the period may not be published."""
    from assets.quality.gate_log import period_gate_problems

    with warehouse.connect(read_only=True) as con:
        problems = period_gate_problems(con, start, end)
        if problems:
            raise dg.Failure(
                description=f"not published: {len(problems)} gate problem(s) in {start} … {end}; first: {problems[0]}",
                metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:50]))})
        rows = con.execute(
            "select gate, count(*) as days, bool_and(passed) as passed, max(checked_at) as last_checked "
            "from quality.gate_log where business_date between ? and ? group by 1 order by 1", [start, end]).fetchall()
    return [{"name": g, "asset": g.split(":")[-1], "passed": bool(p),
             "detail": f"{n} business date(s), last checked {last:%Y-%m-%d %H:%M} UTC"} for g, n, p, last in rows]


@dg.asset(
    key=["reports", "regulatory_report"],
    deps=MART_DEPS,
    partitions_def=business_months,
    group_name=REPORTS_GROUP,
    kinds={"pdf", "weasyprint"},
    owners=[OWNER],
    tags={"layer": "reports"},
    pool=WRITER_POOL,
    description="Monthly regulatory disclosure report (SPEC §6): PDF/A-3b with every figure as JSON/CSV beside "
                "it and embedded, written to `<reports>/<YYYY-MM>/regulatory_report_<YYYY-MM>.pdf`. Published "
                "only when every business date of the month passed every gate.",
)
def regulatory_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                      reports: ReportsResource) -> dg.MaterializeResult:
    return _regulatory(context, warehouse, reports, *month_bounds(context.partition_key))


def _regulatory(context: dg.AssetExecutionContext, warehouse: WarehouseResource, reports: ReportsResource,
                start: dt.date, end: dt.date) -> dg.MaterializeResult:
    from assets.reports.render import render_regulatory_report

    if end < start:
        raise dg.Failure(description=f"end date {end} is before start date {start}")
    gates = publication_gate(warehouse, start, end)
    res = render_regulatory_report(warehouse.path, start, end, reports.path, run_id=context.run.run_id,
                                   gate_results=gates)
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(res.path)),
        "figures": dg.MetadataValue.path(str(res.figures_path)),
        "pages": dg.MetadataValue.int(res.pages),
        "sha256": res.sha256,
        "render_seconds": dg.MetadataValue.float(round(res.seconds, 2)),
    })


@dg.asset(
    key=["reports", "provider_statements"],
    deps=MART_DEPS,
    partitions_def=business_months,
    group_name=REPORTS_GROUP,
    kinds={"pdf", "weasyprint"},
    owners=[OWNER],
    tags={"layer": "reports"},
    pool=WRITER_POOL,
    description="One statement per capital provider per month (`<reports>/<YYYY-MM>/statements/<provider_id>.pdf`): "
                "that provider's data and platform aggregates only (checked before anything is written).",
)
def provider_statements(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                        reports: ReportsResource) -> dg.MaterializeResult:
    from assets.reports.statements import render_all_statements

    start, end = month_bounds(context.partition_key)
    publication_gate(warehouse, start, end)
    results = render_all_statements(warehouse.path, context.partition_key, reports.path, run_id=context.run.run_id,
                                    workers=2)
    lines = ["| provider | pages | file |", "|---|---:|---|"]
    lines += [f"| {r.path.stem} | {r.pages} | `{r.path.name}` |" for r in results]
    return dg.MaterializeResult(metadata={
        "statements": dg.MetadataValue.int(len(results)),
        "folder": dg.MetadataValue.path(str(reports.path / context.partition_key / "statements")),
        "index": dg.MetadataValue.md("\n".join(lines)),
    })


class RegulatoryRangeConfig(dg.Config):
    """Any date range on demand (inclusive, YYYY-MM-DD)."""

    start_date: str
    end_date: str


@dg.asset(
    key=["reports", "regulatory_report_on_demand"],
    deps=MART_DEPS,
    group_name=REPORTS_GROUP,
    kinds={"pdf", "weasyprint"},
    owners=[OWNER],
    tags={"layer": "reports"},
    pool=WRITER_POOL,
    description="The regulatory report for any date range (launchpad config start_date/end_date), written as "
                "`regulatory_report_<start>_<end>.pdf` under the reports folder; same gates as the monthly one.",
)
def regulatory_report_on_demand(context: dg.AssetExecutionContext, config: RegulatoryRangeConfig,
                                warehouse: WarehouseResource, reports: ReportsResource) -> dg.MaterializeResult:
    return _regulatory(context, warehouse, reports, dt.date.fromisoformat(config.start_date),
                       dt.date.fromisoformat(config.end_date))


report_assets = [regulatory_report, provider_statements, regulatory_report_on_demand]
