"""Risk engine, staged liquidation and default settlement in the default demo."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from .conftest import rows

TIER = {"A": 0, "B": 1, "C": 2}


def _load(root):
    risk = rows(root, "risk_events", "risk_events.csv")
    fills = [f for f in rows(root, "trades", "trades.csv") if f["origin"] == "LIQUIDATION"]
    tiers = {r["symbol"]: r["liquidity_tier"] for r in rows(root, "reference", "instruments.csv")}
    market = {(r["_day"], r["symbol"]): r for r in rows(root, "market", "prices.csv")}
    ledger = rows(root, "ledger", "ledger.csv")
    capital = rows(root, "capital", "capital.csv")
    return risk, fills, tiers, market, ledger, capital


def test_demo_has_the_whole_story(demo):
    root, summary = demo
    risk, fills, _, _, ledger, capital = _load(root)
    types = defaultdict(int)
    for r in risk:
        types[r["type"]] += 1
    assert types["WARNING"] > 0 and types["RESTRICT"] == types["WARNING"]
    assert types["LIQUIDATION_TRIGGER"] > 0 and types["LIQUIDATION_DONE"] > 0 and types["DEFAULT"] > 0
    led = defaultdict(int)
    for r in ledger:
        led[r["type"]] += 1
    for t in ("DEFAULT_COMPENSATION", "WRITE_OFF", "INTEREST", "PERFORMANCE_FEE", "RESERVE_FUNDING", "FEE",
              "LOAN_REPAY", "WITHDRAWAL"):
        assert led[t] > 0, t
    cap = defaultdict(int)
    for r in capital:
        cap[r["type"]] += 1
    for t in ("CONTRIBUTION", "REDEMPTION_REQUEST", "REDEMPTION_PAID", "DISTRIBUTION", "LOSS_ALLOCATION"):
        assert cap[t] > 0, t
    assert summary["limit_down_days"] >= 2
    # the reserve pays the first defaults in full and runs out: later ones are written off
    by = defaultdict(lambda: defaultdict(Decimal))
    for r in ledger:
        if r["type"] in ("DEFAULT_COMPENSATION", "WRITE_OFF"):
            by[(r["_day"], r["account_id"])][r["type"]] += Decimal(r["amount"])
    defaults = [r for r in risk if r["type"] == "DEFAULT"]
    full = partial = 0
    for d in defaults:
        x = by[(d["_day"], d["account_id"])]
        assert -Decimal(d["equity"]) == x["DEFAULT_COMPENSATION"] + x["WRITE_OFF"]  # equity = -S
        full += x["WRITE_OFF"] == 0
        partial += x["WRITE_OFF"] > 0
    assert full > 0 and partial > 0
    # limit-down latency: some liquidation's last fill is more than a day after its trigger
    trig = {r["liquidation_id"]: r for r in risk if r["type"] == "LIQUIDATION_TRIGGER"}
    last = {}
    for f in fills:
        last[f["liquidation_id"]] = max(last.get(f["liquidation_id"], ""), f["executed_at"])
    lat = [(datetime.fromisoformat(last[k]) - datetime.fromisoformat(trig[k]["event_time"])).total_seconds()
           for k in last]
    assert max(lat) > 86_400
    assert min(lat) < 600  # without a lock a liquidation takes minutes


def test_liquidation_fills_follow_their_trigger_least_liquid_first(demo):
    risk, fills, tiers, market, _, _ = _load(demo[0])
    trig = {r["liquidation_id"]: r for r in risk if r["type"] == "LIQUIDATION_TRIGGER"}
    done = {r["liquidation_id"]: r for r in risk if r["type"] == "LIQUIDATION_DONE"}
    assert fills
    per = defaultdict(list)
    for f in fills:
        t = trig[f["liquidation_id"]]
        assert f["account_id"] == t["account_id"]
        assert datetime.fromisoformat(f["executed_at"]) >= datetime.fromisoformat(t["event_time"])
        if f["liquidation_id"] in done:
            assert f["executed_at"] < done[f["liquidation_id"]]["event_time"]
        per[(f["liquidation_id"], f["_day"])].append(f)
        # a position sold after the trigger day was locked limit-down on the trigger day
        if f["_day"] != t["_day"]:
            assert market[(t["_day"], f["symbol"])]["limit_status"] == "LIMIT_DOWN"
        assert market[(f["_day"], f["symbol"])]["limit_status"] != "LIMIT_DOWN"
        m = market[(f["_day"], f["symbol"])]
        assert Decimal(m["low"]) <= Decimal(f["price"]) <= Decimal(m["close"])
    for key, fs in per.items():
        seq = [TIER[tiers[f["symbol"]]] for f in sorted(fs, key=lambda f: f["executed_at"])]
        assert seq == sorted(seq, reverse=True), key  # tier C, then B, then A


def test_restricted_accounts_place_no_client_orders(demo):
    root = demo[0]
    risk = rows(root, "risk_events", "risk_events.csv")
    days = sorted({r["_day"] for r in rows(root, "market", "prices.csv")})
    # an account restricted on day d (and not cured) trades no CLIENT fill on d+1 after its RESTRICT
    restricted_next = {(days[days.index(r["_day"]) + 1], r["account_id"]) for r in risk
                       if r["type"] in ("RESTRICT", "LIQUIDATION_TRIGGER") and r["_day"] != days[-1]}
    client = [(f["_day"], f["account_id"]) for f in rows(root, "trades", "trades.csv") if f["origin"] == "CLIENT"]
    assert not restricted_next & set(client)


def test_dates_and_timestamps_stay_in_the_business_date(demo):
    root = demo[0]
    for r in rows(root, "risk_events", "risk_events.csv"):
        assert r["event_time"].startswith(r["_day"] + "T") and r["event_time"].endswith("+08:00")
    for r in rows(root, "trades", "trades.csv")[:5000]:
        assert r["executed_at"].startswith(r["_day"] + "T") and r["executed_at"].endswith("+08:00")
