"""Custody statements: roll-forward, both forms identical, and every platform entry has its twin."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from .conftest import read_csv, rows

NS = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"}
CMP, CAP, RSV, OPR = "CLIENT_MARGIN_POOL", "CAPITAL_POOL", "RISK_RESERVE", "PLATFORM_OPERATING"
# SPEC §1.1 (written out again here on purpose: the test does not trust the generator's own table)
LEDGER = {"DEPOSIT": ((CMP, 1),), "WITHDRAWAL": ((CMP, -1),), "LOAN_DRAW": ((CAP, -1), (CMP, 1)),
          "LOAN_REPAY": ((CMP, -1), (CAP, 1)), "TRADE_SETTLEMENT": ((CMP, 1),), "INTEREST": ((CMP, -1), (CAP, 1)),
          "FEE": ((CMP, -1), (OPR, 1)), "PERFORMANCE_FEE": ((CMP, -1), (OPR, 1)),
          "RESERVE_FUNDING": ((OPR, -1), (RSV, 1)), "DEFAULT_COMPENSATION": ((RSV, -1), (CAP, 1)), "WRITE_OFF": ()}
CAPITAL = {"CONTRIBUTION": ((CAP, 1),), "REDEMPTION_PAID": ((CAP, -1),), "DISTRIBUTION": ((CAP, -1),),
           "REDEMPTION_REQUEST": (), "LOSS_ALLOCATION": ()}


def xml_statements(root: Path) -> list[dict]:
    out = []
    for f in sorted(root.glob("*/custody/*.xml")):
        st = ET.parse(f).getroot().find("c:BkToCstmrStmt/c:Stmt", NS)
        sign = lambda n: 1 if n.findtext("c:CdtDbtInd", namespaces=NS) == "CRDT" else -1
        bal = {b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=NS): sign(b) * Decimal(b.findtext("c:Amt", namespaces=NS))
               for b in st.findall("c:Bal", NS)}
        entries = [(n.findtext("c:NtryRef", namespaces=NS), sign(n) * Decimal(n.findtext("c:Amt", namespaces=NS)),
                    n.findtext("c:RvslInd", namespaces=NS), n.findtext("c:BookgDt/c:Dt", namespaces=NS),
                    n.findtext("c:ValDt/c:Dt", namespaces=NS),
                    n.findtext("c:NtryDtls/c:TxDtls/c:Refs/c:EndToEndId", namespaces=NS),
                    n.findtext("c:NtryDtls/c:TxDtls/c:RmtInf/c:Ustrd", namespaces=NS))
                   for n in st.findall("c:Ntry", NS)]
        out.append({"day": f.parts[-3], "sid": st.findtext("c:Id", namespaces=NS),
                    "account": st.findtext("c:Acct/c:Id/c:Othr/c:Id", namespaces=NS), "bal": bal, "entries": entries})
    return out


def csv_statements(root: Path) -> list[dict]:
    out = {}
    for day in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for b in read_csv(day / "custody" / "balances.csv"):
            st = out.setdefault(b["statement_id"], {"day": day.name, "sid": b["statement_id"],
                                                    "account": b["custody_account"], "bal": {}, "entries": []})
            st["bal"][b["type"]] = (1 if b["credit_debit"] == "CRDT" else -1) * Decimal(b["amount"])
        for e in read_csv(day / "custody" / "entries.csv"):
            out[e["statement_id"]]["entries"].append(
                (e["entry_ref"], (1 if e["credit_debit"] == "CRDT" else -1) * Decimal(e["amount"]), e["reversal"],
                 e["booking_date"], e["value_date"], e["end_to_end_id"], e["remittance"]))
    return sorted(out.values(), key=lambda s: (s["day"], s["account"]))


def test_balances_roll_forward(demo):
    sts = xml_statements(demo[0])
    last: dict[str, Decimal] = {}
    assert len(sts) == 22 * 4
    for st in sorted(sts, key=lambda s: (s["day"], s["account"])):
        assert st["bal"]["CLBD"] == st["bal"]["OPBD"] + sum(e[1] for e in st["entries"]), st["sid"]
        if st["account"] in last:
            assert st["bal"]["OPBD"] == last[st["account"]], st["sid"]
        last[st["account"]] = st["bal"]["CLBD"]
    first = {s["account"]: s["bal"]["OPBD"] for s in sts if s["day"] == "2026-09-01"}
    assert first[CMP] == 0 and first[CAP] == 0 and first[RSV] > 0 and first[OPR] == Decimal("1000000.00")


def test_xml_and_csv_forms_agree(small_both):
    x = sorted(xml_statements(small_both[0]), key=lambda s: (s["day"], s["account"]))
    c = csv_statements(small_both[0])
    assert [s["sid"] for s in x] == [s["sid"] for s in c]
    for a, b in zip(x, c):
        assert a == b


def test_every_platform_entry_has_its_twin(demo):
    root = demo[0]
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in rows(root, "ledger", "ledger.csv"):
        for acct, sign in LEDGER[r["type"]]:
            expected[(r["end_to_end_id"], acct)] += sign * Decimal(r["amount"])
    for r in rows(root, "capital", "capital.csv"):
        for acct, sign in CAPITAL[r["type"]]:
            expected[(r["end_to_end_id"], acct)] += sign * Decimal(r["amount"])
    actual: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    reversals = 0
    for st in xml_statements(root):
        for ref, amt, rv, booked, valued, e2e, _ in st["entries"]:
            assert e2e and booked == st["day"] == valued
            actual[(e2e, st["account"])] += amt
            reversals += rv == "true"
    expected = {k: v for k, v in expected.items() if v != 0}
    actual = {k: v for k, v in actual.items() if v != 0}
    assert expected == actual
    assert reversals >= 1  # the custodian's duplicate-and-reversal noise is there, and nets out
    refs = [e[0] for st in xml_statements(root) for e in st["entries"]]
    assert len(refs) == len(set(refs))


def test_one_trade_settlement_and_fee_row_per_account_and_day(demo):
    seen = set()
    ids = defaultdict(set)
    for r in rows(demo[0], "ledger", "ledger.csv"):
        if r["type"] in ("TRADE_SETTLEMENT", "FEE"):
            key = (r["_day"], r["type"], r["account_id"])
            assert key not in seen
            seen.add(key)
            ids[(r["_day"], r["type"])].add(r["end_to_end_id"])
    assert ids and all(len(v) == 1 for v in ids.values())
