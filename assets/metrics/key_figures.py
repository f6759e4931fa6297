"""Key figures each mart publishes as Dagster materialization metadata (plotted over partitions).

One entry per mart: SQL with one `?` (the last business date of the run's window) returning one row
whose columns become numeric metadata. Missing marts or empty results are skipped quietly: the
figures are a view on the marts, never a gate.
"""
from __future__ import annotations

import dagster as dg
import duckdb

D = "business_date = cast(? as date)"
M = "month = cast(date_trunc('month', cast(? as date)) as date)"
KEY_FIGURES: dict[str, str] = {
    "fct_utilization_daily": f"select utilization, total_loans, total_capital from marts.fct_utilization_daily where {D}",
    "fct_reserve_coverage_daily": "select reserve_to_cover_2 as reserve_coverage, reserve_balance, worst_cover_2, "
                                  f"coverage_gap from marts.fct_reserve_coverage_daily where {D}",
    "fct_margin_calls_daily": "select accounts_below_warning, accounts_below_maintenance, warnings_issued "
                              f"from marts.fct_margin_calls_daily where {D}",
    "fct_client_money_daily": "select min(coverage_ratio) as client_money_coverage, sum(break_amount) as break_amount "
                              f"from marts.fct_client_money_daily where {D}",
    "fct_reconciliation_daily": "select breaks_outstanding, breaks_outstanding_amount "
                                f"from marts.fct_reconciliation_daily where {D}",
    "fct_data_quality_daily": "select sum(rows_loaded) as rows_loaded, sum(rows_quarantined) as rows_quarantined, "
                              f"sum(rows_duplicate) as rows_duplicate from marts.fct_data_quality_daily where {D}",
    "fct_leverage_percentiles_daily": "select leverage_p50, leverage_p99, leverage_max from "
                                      f"marts.fct_leverage_percentiles_daily where kyc_tier = 'ALL' and {D}",
    "fct_stress_daily": f"select cover_1, cover_2, aggregate_shortfall from marts.fct_stress_daily where is_worst and {D}",
    "fct_liquidity_coverage_daily": f"select liquidity_coverage from marts.fct_liquidity_coverage_daily where {D}",
    "fct_concentration_daily": "select top1_loan_share, top10_loan_share, top10_capital_share "
                               f"from marts.fct_concentration_daily where {D}",
    "rpt_liquidation_latency_monthly": "select last_fill_p50_seconds as latency_p50_seconds, last_fill_p95_seconds as "
                                       "latency_p95_seconds, sla_share from marts.rpt_liquidation_latency_monthly "
                                       f"where population = 'all' and {M}",
    "rpt_default_ratio_monthly": "select default_ratio_count, default_ratio_amount, default_ratio_amount_annualised "
                                 f"from marts.rpt_default_ratio_monthly where {M}",
}


def key_figure_metadata(con: duckdb.DuckDBPyConnection, model: str, as_of: str | None) -> dict[str, dg.MetadataValue]:
    sql = KEY_FIGURES.get(model)
    meta: dict[str, dg.MetadataValue] = {}
    if sql is None:
        return meta
    try:
        cur = con.execute(sql, [as_of] if "?" in sql else [])
        row = cur.fetchone()
        names = [d[0] for d in cur.description]
    except duckdb.Error:
        return meta
    if row is None:
        return meta
    lines = ["| figure | value |", "|---|---:|"]
    for name, value in zip(names, row):
        if value is None:
            continue
        meta[name] = dg.MetadataValue.float(float(value))
        lines.append(f"| {name} | {float(value):,.4f} |")
    if len(lines) > 2:
        meta["key_figures"] = dg.MetadataValue.md("\n".join(lines))
    return meta
