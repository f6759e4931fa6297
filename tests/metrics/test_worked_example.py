"""The product brief's worked example (SPEC §1), end to end through the warehouse.

`simulator.scenarios.worked_example` lands the example as a tiny landing tree and returns its hand-computed
expectations (see its docstring): client A000001 deposits 100,000.00, draws 2× financing, breaches the
warning line, then maintenance; the staged liquidation sells the least liquid stock first while the other
is locked limit-down; the account defaults with S = 11,080.00, the reserve pays 2,081.22 and the
write-off of 8,998.78 is borne by JUNIOR, then MEZZANINE. The tree is loaded with the ingestion loader,
built with dbt (the capital and credit marts and everything upstream) into its own warehouse, and every
figure asserted here is read from the marts (the fill sequence from the staged fills) and compared with
the scenario's expectations.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_dbt

MARTS = ["fct_margin_calls", "fct_defaults", "fct_loss_allocations", "fct_utilization_daily",
         "fct_provider_capital_daily", "fct_interest_daily", "rpt_default_ratio_monthly", "fct_margin_calls_daily"]
SHANGHAI = timedelta(hours=8)


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> tuple[Path, dict]:
    from assets.common.warehouse import connect
    from assets.ingest.load import load_landing
    from simulator.scenarios import worked_example

    root = tmp_path_factory.mktemp("worked_example")
    exp = worked_example(root / "landing")
    db = root / "warehouse.duckdb"
    with connect(db) as con:
        load_landing(con, root / "landing")
    # only this area and what it is built from (tests of other models reaching into it stay out)
    run_dbt(["build", "--select", *(f"+{m}" for m in MARTS), "--indirect-selection", "cautious"], db, root / "target")
    return db, exp


def _query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _day(ts) -> str:
    """A UTC timestamp's Asia/Shanghai business date."""
    return (ts + SHANGHAI).date().isoformat()


def test_events_in_order(example):
    db, exp = example
    calls = _query(db, """
        select account_id, business_date, issued_at, restricted_at, liquidation_triggered_at, liquidation_id, outcome,
               equity_at_issue, margin_ratio_at_issue
        from marts.fct_margin_calls""")
    assert len(calls) == 1
    account, issued_on, warning, restrict, trigger, lid, outcome, equity, ratio = calls[0]
    defaults = _query(db, """
        select account_id, liquidation_id, liquidation_triggered_at, liquidation_done_at, default_at
        from marts.fct_defaults""")
    assert len(defaults) == 1
    d_account, d_lid, d_trigger, done, default = defaults[0]
    assert account == d_account == exp["account"]
    assert lid == d_lid == exp["liquidation_id"] and trigger == d_trigger and outcome == "liquidated"
    timeline = sorted([(warning, "WARNING"), (restrict, "RESTRICT"), (trigger, "LIQUIDATION_TRIGGER"),
                       (done, "LIQUIDATION_DONE"), (default, "DEFAULT")])
    assert [(_day(t), kind) for t, kind in timeline] == exp["events"]
    assert str(issued_on) == exp["events"][0][0]
    # the risk engine's own figures on the WARNING are kept as given
    assert equity == Decimal(exp["equity"]["2026-09-03"])
    assert f"{ratio:.6f}" == exp["margin_ratio"]["2026-09-03"]


def test_liquidation_least_liquid_first(example):
    db, exp = example
    fills = _query(db, """
        select f.business_date, f.symbol, f.quantity, f.price, i.liquidity_tier
        from staging.stg_trading__fills as f
        inner join staging.stg_reference__instruments as i on i.symbol = f.symbol and i.snapshot_date = f.business_date
        where f.origin = 'LIQUIDATION' and f.liquidation_id = 'LQ000001'
        order by f.executed_at, f.fill_id""")
    assert [(str(d), s, int(q), f"{p:.2f}") for d, s, q, p, _ in fills] == exp["liquidation_fills"]
    tiers = [t for *_, t in fills]
    assert tiers == sorted(tiers, reverse=True) and tiers[0] == "C" and tiers[-1] == "A"  # C before B before A
    day, symbol = exp["limit_down"]
    assert _query(db, f"""select limit_status from staging.stg_market__prices
                          where symbol = '{symbol}' and business_date = date '{day}'""")[0][0] == "LIMIT_DOWN"
    # the locked stock was sold only on the next business day: the liquidation spans the weekend
    assert {str(d) for d, *_ in fills} == {day, exp["closed_on"]}


def test_shortfall_compensation_and_write_off(example):
    db, exp = example
    row = _query(db, """
        select business_date, shortfall, interest_charged, loan_repaid, claim_principal, claim_interest,
               reserve_available, compensation, expected_compensation, write_off, interest_written_off,
               loss_allocated, loss_unallocated
        from marts.fct_defaults""")[0]
    (day, s, interest, repaid, principal, claim_interest, reserve, comp, expected, write_off, interest_wo,
     allocated, unallocated) = row
    assert str(day) == exp["closed_on"]
    assert s == Decimal(exp["shortfall"]) == -Decimal(exp["equity"]["2026-09-07"])
    assert interest == Decimal(exp["interest_charged"])
    assert repaid == Decimal(exp["loan_repay"])
    assert (principal, claim_interest) == (s, 0)  # cash covered the interest: the claim is principal only
    assert reserve == Decimal(exp["reserve_before_default"])
    assert comp == expected == Decimal(exp["compensation"])
    assert write_off == Decimal(exp["write_off"]) and interest_wo == 0
    assert allocated == write_off and unallocated == 0


def test_loss_allocation_junior_then_mezzanine(example):
    db, exp = example
    rows = _query(db, """
        select provider_id, tranche, allocated_amount, balance_before, balance_after
        from marts.fct_loss_allocations order by loss_order, provider_id""")
    assert {p: f"{a:.2f}" for p, _, a, _, _ in rows} == exp["loss_allocation"]
    assert [t for _, t, *_ in rows] == ["JUNIOR", "JUNIOR", "MEZZANINE", "MEZZANINE"]
    # JUNIOR is wiped out before MEZZANINE bears anything
    assert all(after == 0 for _, t, _, _, after in rows if t == "JUNIOR")
    assert sum(a for _, _, a, _, _ in rows) == Decimal(exp["write_off"])
    # the providers' capital after the default, and the loan book (empty) it finances
    capital = dict(_query(db, """select provider_id, capital_balance from marts.fct_provider_capital_daily
                                 where business_date = date '2026-09-07'"""))
    assert capital == {"P001": Decimal("150000.00"), "P002": Decimal("37334.15"), "P003": Decimal("18667.07"),
                       "P004": Decimal("0.00"), "P005": Decimal("0.00")}
    util = _query(db, """select business_date, total_loans, total_capital, utilization from marts.fct_utilization_daily
                         order by business_date""")
    assert util[0][1:3] == (Decimal("200000.00"), Decimal("215000.00"))
    assert util[-1][1] == 0 and util[-1][2] == Decimal("215000.00") - Decimal(exp["write_off"])


def test_interest_and_default_ratio(example):
    db, exp = example
    interest = _query(db, """select business_date, interest_accrued, interest_charged, interest_outstanding, interest_dropped
                             from marts.fct_interest_daily order by business_date""")
    # 40.00 a calendar day on 200,000 at 7.20 %; Monday carries Saturday and Sunday, its own close has no loan
    assert [(str(d), a) for d, a, *_ in interest] == [
        ("2026-09-01", Decimal(40)), ("2026-09-02", Decimal(40)), ("2026-09-03", Decimal(40)),
        ("2026-09-04", Decimal(40)), ("2026-09-07", Decimal(80))]
    assert interest[-1][2:] == (Decimal(exp["interest_charged"]), 0, 0)
    ratio = _query(db, """select accounts_defaulted, accounts_with_loan, default_ratio_count, total_shortfall
                          from marts.rpt_default_ratio_monthly""")
    assert ratio == [(1, 1, 1.0, Decimal(exp["shortfall"]))]
