"""The brief's worked example: the files show exactly the hand computation of the docstring."""
from __future__ import annotations

from .conftest import read_csv, rows


def test_events_in_order(example):
    root, exp = example
    risk = rows(root, "risk_events", "risk_events.csv")
    assert [(r["_day"], r["type"]) for r in risk] == exp["events"]
    assert all(r["account_id"] == exp["account"] for r in risk)
    for r in risk:
        if r["_day"] in exp["margin_ratio"] and r["type"] != "DEFAULT":
            assert r["margin_ratio"] == exp["margin_ratio"][r["_day"]]
        assert r["equity"] == exp["equity"][r["_day"]]
    assert {r["liquidation_id"] for r in risk if r["type"] not in ("WARNING", "RESTRICT")} == {exp["liquidation_id"]}
    default = next(r for r in risk if r["type"] == "DEFAULT")
    assert default["equity"] == "-" + exp["shortfall"]


def test_staged_liquidation_least_liquid_first_with_limit_down_latency(example):
    root, exp = example
    fills = [f for f in rows(root, "trades", "trades.csv") if f["origin"] == "LIQUIDATION"]
    assert [(f["_day"], f["symbol"], int(f["quantity"]), f["price"]) for f in fills] == exp["liquidation_fills"]
    day, sym = exp["limit_down"]
    status = {r["symbol"]: r["limit_status"] for r in read_csv(root / day / "market" / "prices.csv")}
    assert status[sym] == "LIMIT_DOWN"


def test_default_settlement_and_loss_allocation(example):
    root, exp = example
    led = {r["type"]: r["amount"] for r in read_csv(root / "2026-09-07" / "ledger" / "ledger.csv")}
    assert led["INTEREST"] == exp["interest_charged"]
    assert led["LOAN_REPAY"] == exp["loan_repay"]
    assert led["DEFAULT_COMPENSATION"] == exp["compensation"]
    assert led["WRITE_OFF"] == exp["write_off"]
    cap = read_csv(root / "2026-09-07" / "capital" / "capital.csv")
    assert {r["provider_id"]: r["amount"] for r in cap if r["type"] == "LOSS_ALLOCATION"} == exp["loss_allocation"]
    assert [r["tranche"] for r in cap] == ["JUNIOR", "JUNIOR", "MEZZANINE", "MEZZANINE"]
    acc = read_csv(root / "2026-09-07" / "reference" / "accounts.csv")
    assert acc[0]["closed_on"] == exp["closed_on"]
    assert exp["summary"]["reserve_draws"] == exp["compensation"]


def test_reserve_before_the_default(example):
    import xml.etree.ElementTree as ET
    root, exp = example
    ns = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"}
    st = ET.parse(root / "2026-09-04" / "custody" / "RISK_RESERVE_20260904.xml").getroot()
    clbd = [b for b in st.iter(f"{{{ns['c']}}}Bal") if b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=ns) == "CLBD"]
    assert clbd[0].findtext("c:Amt", namespaces=ns) == exp["reserve_before_default"]
