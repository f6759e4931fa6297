"""Custody reconciliation (M10, M11) and the cross-feed gates, checked against the landing files.

The clean half recomputes from the landing zone — custody camt.053 parsed with the project's reader,
the ledger and capital CSVs with polars, SPEC §1.1's custody table written out again here — and
compares with the marts: client-money coverage per day to the cent, every reconciliation item
matched (one per end_to_end_id × custody account), the statements rolling forward.

The broken half copies the built warehouse, damages raw rows with SQL (an entry deleted, amounts
changed, an entry moved to another day, an unknown account, a liquidation fill before its trigger,
a wrong opening balance, a missing statement, …), rebuilds the custody models and runs the
singular gates with --store-failures: every gate must fail and name the damaged file, row and rule.
"""
from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.ingest.load import business_dates
from assets.ingest.readers.camt053 import parse_camt053
from tests.conftest import run_dbt

CMP, CAP, RSV, OPR = "CLIENT_MARGIN_POOL", "CAPITAL_POOL", "RISK_RESERVE", "PLATFORM_OPERATING"

# SPEC §1.1 (ledger) and §2 (capital): custody account and sign of the source amount, restated here so
# the test does not borrow the model's own table.
LEDGER_CUSTODY = {
    "DEPOSIT": [(CMP, 1)],
    "WITHDRAWAL": [(CMP, -1)],
    "LOAN_DRAW": [(CAP, -1), (CMP, 1)],
    "LOAN_REPAY": [(CMP, -1), (CAP, 1)],
    "TRADE_SETTLEMENT": [(CMP, 1)],
    "INTEREST": [(CMP, -1), (CAP, 1)],
    "FEE": [(CMP, -1), (OPR, 1)],
    "PERFORMANCE_FEE": [(CMP, -1), (OPR, 1)],
    "RESERVE_FUNDING": [(OPR, -1), (RSV, 1)],
    "DEFAULT_COMPENSATION": [(RSV, -1), (CAP, 1)],
    "WRITE_OFF": [],
}
CAPITAL_CUSTODY = {"CONTRIBUTION": [(CAP, 1)], "REDEMPTION_PAID": [(CAP, -1)], "DISTRIBUTION": [(CAP, -1)],
                   "REDEMPTION_REQUEST": [], "LOSS_ALLOCATION": []}
CLIENT_CASH = {"DEPOSIT": 1, "WITHDRAWAL": -1, "LOAN_DRAW": 1, "LOAN_REPAY": -1, "TRADE_SETTLEMENT": 1,
               "INTEREST": -1, "FEE": -1, "PERFORMANCE_FEE": -1}

CUSTODY_MODELS = ["int_custody__expected_entries", "int_custody__balances_daily", "fct_reconciliation_items",
                  "fct_reconciliation_daily", "fct_custody_rollforward_daily", "fct_client_money_daily",
                  "fct_data_quality_daily"]
GATES = ["assert_fills_reference_accounts_and_instruments", "assert_capital_events_reference_providers",
         "assert_ledger_reference_accounts", "assert_liquidation_fills_have_trigger",
         "assert_custody_opening_equals_previous_closing", "assert_custody_closing_rolls_forward",
         "assert_reconciliation_within_tolerance", "assert_ledger_matches_fills",
         "assert_margin_breach_has_liquidation_trigger", "assert_default_equity_negative",
         "assert_custody_statements_complete"]


# ----------------------------------------------------------------------------- landing zone, recomputed
def _csv(landing: Path, folder: str, name: str) -> pl.DataFrame:
    frames = []
    for day in business_dates(landing):
        df = pl.read_csv(landing / day / folder / name, infer_schema=False)
        frames.append(df.with_columns(pl.lit(day).alias("_day"),
                                      pl.int_range(2, df.height + 2).cast(pl.Utf8).alias("_line")))
    return pl.concat(frames)


@pytest.fixture(scope="module")
def landing_books(sample_landing):
    """Statements (loaded once per statement id), ledger and capital rows of the sample landing zone."""
    statements = {}
    for day in business_dates(sample_landing):
        for path in sorted((sample_landing / day / "custody").glob("*.xml")):
            for st in parse_camt053(path):
                statements.setdefault(st.statement_id, (date.fromisoformat(day), st))
    return {
        "statements": statements,
        "ledger": _csv(sample_landing, "ledger", "ledger.csv"),
        "capital": _csv(sample_landing, "capital", "capital.csv"),
    }


def _counted_entries(statements):
    """(business date, entry) of entries that count: booked, an entry repeated by an overlapping statement once."""
    seen = set()
    for day, st in sorted(statements.values(), key=lambda x: (x[0], x[1].statement_id)):
        for e in st.entries:
            key = (e.custody_account, e.entry_ref, e.tx_seq)
            if e.status != "BOOK" or key in seen:
                continue
            seen.add(key)
            yield day, e


def _query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ----------------------------------------------------------------------------- clean data
def test_client_money_coverage_matches_landing(built_warehouse, landing_books):
    ledger = landing_books["ledger"]
    flows: dict[str, Decimal] = defaultdict(Decimal)
    for row in ledger.iter_rows(named=True):
        if row["account_id"] == RSV or row["type"] not in CLIENT_CASH:
            continue
        flows[row["business_date"]] += CLIENT_CASH[row["type"]] * Decimal(row["amount"])
    closing = {}
    for day, st in landing_books["statements"].values():
        if st.custody_account == CMP:
            closing[day] = next(b.signed_amount for b in st.balances if b.type == "CLBD")

    mart = {r[0]: r[1:] for r in _query(built_warehouse,
            "select business_date, custody_balance, client_cash, break_amount, coverage_ratio, has_break "
            "from marts.fct_client_money_daily where currency = 'CNY' order by 1")}
    assert sorted(mart) == sorted(closing)
    cash = Decimal(0)
    for day in sorted(closing):
        cash += flows.get(day.isoformat(), Decimal(0))
        custody_balance, client_cash, break_amount, coverage, has_break = mart[day]
        assert custody_balance == closing[day], day
        assert client_cash == cash, day
        assert break_amount == closing[day] - cash == 0, day
        assert coverage == pytest.approx(float(closing[day] / cash)) and not has_break


def test_reconciliation_all_matched_one_item_per_pair(built_warehouse, landing_books):
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in landing_books["ledger"].iter_rows(named=True):
        if row["end_to_end_id"]:
            for acct, sign in LEDGER_CUSTODY[row["type"]]:
                amount = Decimal(row["amount"])
                expected[(row["end_to_end_id"], acct)] += sign * (amount if row["type"] == "TRADE_SETTLEMENT" else abs(amount))
    for row in landing_books["capital"].iter_rows(named=True):
        if row["end_to_end_id"]:
            for acct, sign in CAPITAL_CUSTODY[row["type"]]:
                expected[(row["end_to_end_id"], acct)] += sign * Decimal(row["amount"])
    actual: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    reversed_ids = set()
    for _, e in _counted_entries(landing_books["statements"]):
        if e.end_to_end_id:
            actual[(e.end_to_end_id, e.custody_account)] += e.signed_amount
            if e.reversal:
                reversed_ids.add((e.end_to_end_id, e.custody_account))
    pairs = set(expected) | set(actual)
    assert reversed_ids, "the sample should hold the generator's booked-twice-and-reversed noise"

    items = _query(built_warehouse, "select end_to_end_id, custody_account, status, expected_amount, actual_amount, "
                                    "reversal_entries from marts.fct_reconciliation_items")
    assert len(items) == len(pairs) == len({(i[0], i[1]) for i in items})
    by_pair = {(i[0], i[1]): i for i in items}
    assert set(by_pair) == pairs
    for pair in pairs:
        _, _, status, exp, act, _ = by_pair[pair]
        assert status == "matched", pair
        assert exp == expected.get(pair, 0) and act == actual.get(pair, 0) == exp, pair
    for pair in reversed_ids:  # booked twice, one copy reversed: matched on the original amount
        assert by_pair[pair][5] == 1 and by_pair[pair][2] == "matched"

    daily = _query(built_warehouse, "select sum(breaks_outstanding), sum(unmatched_entry_items + missing_entry_items "
                                    "+ amount_break_items + date_mismatch_items), count(*) from marts.fct_reconciliation_daily")
    assert daily[0] == (0, 0, len({day for day, _ in landing_books["statements"].values()}))


def test_rollforward_clean_and_equal_to_statements(built_warehouse, landing_books):
    entries: dict[str, Decimal] = defaultdict(Decimal)
    for _, e in _counted_entries(landing_books["statements"]):
        entries[e.statement_id] += e.signed_amount
    mart = {r[0]: r[1:] for r in _query(built_warehouse,
            "select statement_id, opening_balance, entries_total, closing_balance, opening_break, rollforward_break, "
            "has_break from marts.fct_custody_rollforward_daily")}
    assert set(mart) == set(landing_books["statements"])
    previous: dict[str, Decimal] = {}
    for sid, (day, st) in sorted(landing_books["statements"].items(), key=lambda x: (x[1][0], x[0])):
        bal = {b.type: b.signed_amount for b in st.balances}
        opening, total, closing, opening_break, rollforward_break, has_break = mart[sid]
        assert (opening, total, closing) == (bal["OPBD"], entries[sid], bal["CLBD"]), sid
        assert bal["OPBD"] + entries[sid] == bal["CLBD"] and rollforward_break == 0, sid
        if st.custody_account in previous:
            assert bal["OPBD"] == previous[st.custody_account] and opening_break == 0, sid
        else:
            assert opening_break is None
        assert not has_break
        previous[st.custody_account] = bal["CLBD"]


def test_data_quality_counts_match_landing(built_warehouse, sample_landing, landing_books):
    """M17 on clean data: rows per feed and date as in the files, nothing missing, quarantined or broken."""
    folders = {"trades": ("trades", "*.csv"), "ledger_entries": ("ledger", "*.csv"), "capital_events": ("capital", "*.csv"),
               "risk_events": ("risk_events", "*.csv"), "market_prices": ("market", "*.csv"),
               "accounts": ("reference", "accounts.csv"), "providers": ("reference", "providers.csv"),
               "instruments": ("reference", "instruments.csv")}
    mart = {(r[0], r[1].isoformat()): r[2:] for r in _query(
        built_warehouse, "select feed, business_date, files, rows_in_files, rows_loaded, rows_quarantined, "
                         "rows_duplicate + duplicate_key_rows, is_feed_missing, reconciliation_breaks "
                         "from marts.fct_data_quality_daily")}
    days = business_dates(sample_landing)
    assert len(mart) == len(days) * (len(folders) + 2)
    for day in days:
        for feed, (folder, pattern) in folders.items():
            files = sorted((sample_landing / day / folder).glob(pattern))
            rows = sum(pl.read_csv(f, infer_schema=False).height for f in files)
            assert mart[(feed, day)] == (len(files), rows, rows, 0, 0, False, 0), (feed, day)
        sts = [st for d, st in landing_books["statements"].values() if d.isoformat() == day]
        assert mart[("custody_entries", day)][:2] == (4, sum(len(st.entries) for st in sts))
        assert mart[("custody_balances", day)][:3] == (4, 8, 8)


# ----------------------------------------------------------------------------- broken data
class Damage:
    """Damages raw rows of a warehouse copy and records what each gate must then report."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.expect: dict[str, list[tuple[str, str, str, str, str]]] = defaultdict(list)  # gate -> (feed, file, row, rule, detail part)
        self.items: dict[tuple[str, str], tuple[str, Decimal | None]] = {}  # (e2e, account) -> (status, difference)
        self.days = [r[0] for r in con.execute(
            "select distinct _business_date from raw.custody_balances order by 1").fetchall()]

    def one(self, sql: str, params=()):
        row = self.con.execute(sql, list(params)).fetchone()
        assert row is not None, sql
        return row

    def gate(self, name: str, feed: str, file: str, row: str, rule: str, detail: str = "") -> None:
        self.expect[name].append((feed, file, row, rule, detail))

    def statement_row(self, account: str, day: date, kind: str) -> tuple[str, str]:
        return self.one("select _source_file, _source_row from raw.custody_balances "
                        "where custody_account = ? and _business_date = ? and type = ?", [account, day, kind])

    def ledger_row(self, e2e: str) -> tuple[str, str]:
        return self.one("select _source_file, _source_row from raw.ledger_entries where end_to_end_id = ? "
                        "order by _source_file, cast(_source_row as bigint) limit 1", [e2e])

    def single_entry(self, account: str, kind: str, day: date):
        return self.one(
            "select entry_ref, end_to_end_id, _source_file, _source_row, amount, credit_debit from raw.custody_entries e "
            "where custody_account = ? and remittance like ? and _business_date = ? and not reversal "
            "and (select count(*) from raw.custody_entries x where x.end_to_end_id = e.end_to_end_id "
            "     and x.custody_account = e.custody_account) = 1 "
            "order by entry_ref limit 1", [account, kind + "%", day])


def _apply_damage(con: duckdb.DuckDBPyConnection) -> Damage:
    d = Damage(con)
    days = d.days

    # 1. a custody entry deleted: the ledger row misses its entry, the statement no longer rolls forward
    ref, e2e, _, _, _, _ = d.single_entry(CMP, "DEPOSIT", days[2])
    con.execute("delete from raw.custody_entries where custody_account = ? and entry_ref = ?", [CMP, ref])
    d.gate("assert_reconciliation_within_tolerance", "ledger_entries", *d.ledger_row(e2e), "custody.missing_entry", e2e)
    d.gate("assert_custody_closing_rolls_forward", "custody_balances", *d.statement_row(CMP, days[2], "CLBD"),
           "custody.rollforward")
    d.items[(e2e, CMP)] = ("missing_entry", None)

    # 2. an amount changed at custody: 0.50 more debited for a loan draw
    ref, e2e, file, row, _, cd = d.single_entry(CAP, "LOAN_DRAW", days[4])
    assert cd == "DBIT"
    con.execute("update raw.custody_entries set amount = amount + 0.50, entry_amount = entry_amount + 0.50 "
                "where custody_account = ? and entry_ref = ?", [CAP, ref])
    d.gate("assert_reconciliation_within_tolerance", "custody_entries", file, row, "custody.amount_break", e2e)
    d.gate("assert_custody_closing_rolls_forward", "custody_balances", *d.statement_row(CAP, days[4], "CLBD"),
           "custody.rollforward")
    d.items[(e2e, CAP)] = ("amount_break", Decimal("-0.50"))
    d.small_breaks = [e2e]

    # 3. an entry moved to the next day's statement: booked on another date than its ledger row
    ref, e2e, _, row, _, _ = d.single_entry(RSV, "RESERVE_FUNDING", days[5])
    new_file, _ = d.statement_row(RSV, days[6], "CLBD")
    new_sid = d.one("select statement_id from raw.custody_balances where custody_account = ? and _business_date = ?",
                    [RSV, days[6]])[0]
    con.execute("update raw.custody_entries set _business_date = ?, statement_id = ?, _source_file = ? "
                "where custody_account = ? and entry_ref = ?", [days[6], new_sid, new_file, RSV, ref])
    d.gate("assert_reconciliation_within_tolerance", "custody_entries", new_file, row, "custody.date_mismatch", e2e)
    for day in days[5:7]:
        d.gate("assert_custody_closing_rolls_forward", "custody_balances", *d.statement_row(RSV, day, "CLBD"),
               "custody.rollforward")
    d.items[(e2e, RSV)] = ("date_mismatch", Decimal("0.00"))

    # 4. an entry carrying an id nobody books: unmatched, and its real id now misses its entry
    ref, e2e, file, row, _, _ = d.single_entry(OPR, "RESERVE_FUNDING", days[7])
    con.execute("update raw.custody_entries set end_to_end_id = 'E2E-NOBODY' where custody_account = ? and entry_ref = ?",
                [OPR, ref])
    d.gate("assert_reconciliation_within_tolerance", "custody_entries", file, row, "custody.unmatched_entry", "E2E-NOBODY")
    d.gate("assert_reconciliation_within_tolerance", "ledger_entries", *d.ledger_row(e2e), "custody.missing_entry", e2e)
    d.items[("E2E-NOBODY", OPR)] = ("unmatched_entry", None)
    d.items[(e2e, OPR)] = ("missing_entry", None)

    # 5. a wrong opening balance
    file, row = d.statement_row(RSV, days[8], "OPBD")
    con.execute("update raw.custody_balances set amount = amount + 1.00 "
                "where custody_account = ? and _business_date = ? and type = 'OPBD' and credit_debit = 'CRDT'",
                [RSV, days[8]])
    d.gate("assert_custody_opening_equals_previous_closing", "custody_balances", file, row, "custody.opening", RSV)

    # 6. a statement missing: PLATFORM_OPERATING on the last day
    last = days[-1]
    con.execute("delete from raw.custody_entries where custody_account = ? and _business_date = ?", [OPR, last])
    con.execute("delete from raw.custody_balances where custody_account = ? and _business_date = ?", [OPR, last])
    d.gate("assert_custody_statements_complete", "custody_entries", f"{last}/custody", "-", "custody.statement", OPR)

    # 7. client money short at custody: CLIENT_MARGIN_POOL closes 100.00 lower on one day
    file, row = d.statement_row(CMP, days[9], "CLBD")
    con.execute("update raw.custody_balances set amount = amount - 100.00 "
                "where custody_account = ? and _business_date = ? and type = 'CLBD' and credit_debit = 'CRDT'",
                [CMP, days[9]])
    d.gate("assert_custody_closing_rolls_forward", "custody_balances", file, row, "custody.rollforward")
    d.gate("assert_custody_opening_equals_previous_closing", "custody_balances", *d.statement_row(CMP, days[10], "OPBD"),
           "custody.opening")
    d.client_money_day = days[9]

    # 8. fills naming an unknown account and an unknown symbol
    cols = [r[0] for r in con.execute("describe raw.trades").fetchall()]
    fill_file = d.one("select _source_file from raw.trades where _business_date = ? limit 1", [days[1]])[0]
    for fill_id, account, symbol, line in (("F-BAD-ACCOUNT", "'A999999'", "symbol", "99001"),
                                           ("F-BAD-SYMBOL", "account_id", "'NOPE.XX'", "99002")):
        select = ", ".join({"fill_id": f"'{fill_id}'", "account_id": account, "symbol": symbol,
                            "_source_row": f"'{line}'"}.get(c, c) for c in cols)
        con.execute(f"insert into raw.trades select {select} from raw.trades "
                    f"where _business_date = ? and origin = 'CLIENT' and fill_id not like 'F-BAD%' order by fill_id limit 1",
                    [days[1]])
    d.gate("assert_fills_reference_accounts_and_instruments", "trades", fill_file, "99001", "ref.account", "A999999")
    d.gate("assert_fills_reference_accounts_and_instruments", "trades", fill_file, "99002", "ref.instrument", "NOPE.XX")
    d.only_once = ("assert_fills_reference_accounts_and_instruments", "99002")  # a known account: no ref.account

    # 9. a margin breach whose trigger is gone (the account of the earliest trigger), then two other
    #    liquidations: one fill before its trigger, one fill carrying an id no trigger carries
    triggers = con.execute("select account_id, liquidation_id, event_time, _business_date from raw.risk_events "
                           "where type = 'LIQUIDATION_TRIGGER' order by event_time").fetchall()
    gone_account, gone_liq, _, gone_day = triggers[0]
    con.execute("delete from raw.risk_events where type = 'LIQUIDATION_TRIGGER' and liquidation_id = ?", [gone_liq])
    risk_file = d.one("select _source_file from raw.risk_events where _business_date = ? limit 1", [gone_day])[0]
    d.gate("assert_margin_breach_has_liquidation_trigger", "risk_events", risk_file, "-", "risk.liquidation_trigger",
           gone_account)
    for (_, liq, trigger_time, _), rule in ((triggers[1], "ref.liquidation_order"), (triggers[2], "ref.liquidation")):
        fill_id, file, row = d.one("select fill_id, _source_file, _source_row from raw.trades "
                                   "where origin = 'LIQUIDATION' and liquidation_id = ? order by executed_at limit 1", [liq])
        if rule == "ref.liquidation_order":  # an hour before its trigger
            con.execute("update raw.trades set executed_at = ? - interval 1 hour where fill_id = ?", [trigger_time, fill_id])
        else:
            con.execute("update raw.trades set liquidation_id = 'LQ999999' where fill_id = ?", [fill_id])
        d.gate("assert_liquidation_fills_have_trigger", "trades", file, row, rule, fill_id)

    # 10. capital events: an unknown provider, a tranche that is not the provider's
    cap_file = d.one("select _source_file from raw.capital_events where _business_date = ? limit 1", [days[0]])[0]
    cols = [r[0] for r in con.execute("describe raw.capital_events").fetchall()]
    select = ", ".join({"event_id": "'CE-BAD-1'", "provider_id": "'P999'", "type": "'LOSS_ALLOCATION'",
                        "end_to_end_id": "null", "_source_row": "'99005'"}.get(c, c) for c in cols)
    con.execute(f"insert into raw.capital_events select {select} from raw.capital_events "
                f"where _business_date = ? order by event_id limit 1", [days[0]])
    d.gate("assert_capital_events_reference_providers", "capital_events", cap_file, "99005", "ref.provider", "P999")
    event_id, file, row, tranche = d.one("select event_id, _source_file, _source_row, tranche from raw.capital_events "
                                         "where type = 'CONTRIBUTION' order by event_id limit 1")
    wrong = "JUNIOR" if tranche != "JUNIOR" else "SENIOR"
    con.execute("update raw.capital_events set tranche = ? where event_id = ?", [wrong, event_id])
    d.gate("assert_capital_events_reference_providers", "capital_events", file, row, "ref.tranche", event_id)

    # 11. ledger rows: an unknown account, RESERVE_FUNDING booked on a client account
    led_file = d.one("select _source_file from raw.ledger_entries where _business_date = ? limit 1", [days[3]])[0]
    cols = [r[0] for r in con.execute("describe raw.ledger_entries").fetchall()]
    select = ", ".join({"entry_id": "'LE-BAD-1'", "account_id": "'A999999'", "type": "'WRITE_OFF'",
                        "end_to_end_id": "null", "_source_row": "'99006'"}.get(c, c) for c in cols)
    con.execute(f"insert into raw.ledger_entries select {select} from raw.ledger_entries "
                f"where _business_date = ? order by entry_id limit 1", [days[3]])
    d.gate("assert_ledger_reference_accounts", "ledger_entries", led_file, "99006", "ref.account", "A999999")
    entry_id, file, row = d.one("select entry_id, _source_file, _source_row from raw.ledger_entries "
                                "where type = 'RESERVE_FUNDING' and _business_date = ?", [days[3]])
    con.execute("update raw.ledger_entries set account_id = 'A000001' where entry_id = ?", [entry_id])
    d.gate("assert_ledger_reference_accounts", "ledger_entries", file, row, "ref.account", "RESERVE_FUNDING")

    # 12. ledger vs fills on one day: TRADE_SETTLEMENT 0.01 off, FEE below the commissions, a second
    #     FEE row for an account, a TRADE_SETTLEMENT row with its own end_to_end_id
    day = days[11]
    ts = con.execute("select entry_id, account_id, end_to_end_id, _source_file, _source_row from raw.ledger_entries "
                     "where type = 'TRADE_SETTLEMENT' and _business_date = ? order by entry_id limit 4", [day]).fetchall()
    con.execute("update raw.ledger_entries set amount = amount + 0.01 where entry_id = ?", [ts[0][0]])
    d.gate("assert_ledger_matches_fills", "ledger_entries", ts[0][3], ts[0][4], "ledger.trade_settlement", ts[0][1])
    ts_id = ts[0][2]
    fee_id, fee_account, fee_file, fee_row = d.one(
        "select entry_id, account_id, _source_file, _source_row from raw.ledger_entries "
        "where type = 'FEE' and _business_date = ? and account_id = ?", [day, ts[1][1]])
    con.execute("update raw.ledger_entries set amount = 0.00 where entry_id = ?", [fee_id])
    d.gate("assert_ledger_matches_fills", "ledger_entries", fee_file, fee_row, "ledger.fee", fee_account)
    select = ", ".join({"entry_id": "'LE-BAD-FEE'", "amount": "0.00", "_source_row": "'99007'"}.get(c, c) for c in cols)
    con.execute(f"insert into raw.ledger_entries select {select} from raw.ledger_entries "
                f"where type = 'FEE' and _business_date = ? and account_id = ?", [day, ts[2][1]])
    d.gate("assert_ledger_matches_fills", "ledger_entries", fee_file, "99007", "ledger.one_row_per_day", ts[2][1])
    d.items[(ts_id, CMP)] = ("amount_break", Decimal("-0.01"))
    d.small_breaks.append(ts_id)
    entry_id, file, split_id = d.one(
        "select entry_id, _source_file, end_to_end_id from raw.ledger_entries "
        "where type = 'TRADE_SETTLEMENT' and _business_date = ? and amount <> 0 order by entry_id limit 1", [days[12]])
    con.execute("update raw.ledger_entries set end_to_end_id = 'E2E-SPLIT' where entry_id = ?", [entry_id])
    d.gate("assert_ledger_matches_fills", "ledger_entries", file, "-", "ledger.shared_id", "TRADE_SETTLEMENT")
    d.items[("E2E-SPLIT", CMP)] = ("missing_entry", None)
    d.items[(split_id, CMP)] = ("amount_break", None)

    # 13. a DEFAULT with positive equity
    event_id, file, row = d.one("select event_id, _source_file, _source_row from raw.risk_events "
                                "where type = 'DEFAULT' order by event_time limit 1")
    con.execute("update raw.risk_events set equity = 100.00 where event_id = ?", [event_id])
    d.gate("assert_default_equity_negative", "risk_events", file, row, "value.range", event_id)
    return d


@pytest.fixture(scope="module")
def broken(built_warehouse, tmp_path_factory):
    """A damaged copy of the built warehouse, custody models rebuilt, gates run with --store-failures."""
    work = tmp_path_factory.mktemp("custody_broken")
    db = work / built_warehouse.name  # same file name: the catalog name (the stem) is in the staging views
    shutil.copyfile(built_warehouse, db)
    con = duckdb.connect(str(db))
    try:
        damage = _apply_damage(con)
    finally:
        con.close()
    # one target dir for the invocations: dbt parses the project once, then partially
    run_dbt(["run", "--select", *CUSTODY_MODELS], db, work / "target")
    proc = run_dbt(["test", "--store-failures", "--select", *GATES], db, work / "target", check=False)
    failures = {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        for gate in GATES:
            failures[gate] = con.execute(
                f'select feed, source_file, source_row, rule, detail from gate_failures."{gate}"').fetchall()
    finally:
        con.close()
    return {"db": db, "work": work, "damage": damage, "proc": proc, "failures": failures}


def test_every_gate_fails_naming_file_row_and_rule(broken):
    proc = broken["proc"]
    assert proc.returncode != 0
    for gate in GATES:
        assert broken["failures"][gate], f"{gate} did not fail:\n{proc.stdout[-3000:]}"
    for gate, wanted in broken["damage"].expect.items():
        got = broken["failures"][gate]
        for feed, file, row, rule, detail in wanted:
            hits = [g for g in got if g[:4] == (feed, file, row, rule) and detail in (g[4] or "")]
            assert hits, f"{gate}: no failure ({feed}, {file}, {row}, {rule}, ~{detail!r}); got {got[:8]}"
        for g in got:  # every failure names a feed, a file, a position and a rule
            assert all(g[:4]) and g[4], (gate, g)
    gate, row = broken["damage"].only_once
    assert [g[3] for g in broken["failures"][gate] if g[2] == row] == ["ref.instrument"]


def test_reconciliation_items_after_damage(broken):
    items = {(r[0], r[1]): r[2:] for r in _query(
        broken["db"], "select end_to_end_id, custody_account, status, difference, break_amount, age_business_days, "
                      "is_break from marts.fct_reconciliation_items")}
    for key, (status, difference) in broken["damage"].items.items():
        got = items[key]
        assert got[0] == status, (key, got)
        if difference is not None:
            assert got[1] == difference, (key, got)
        assert got[4] and got[2] > 0 and got[3] >= 0, (key, got)  # a break, an amount at issue, an age
    # the daily view holds every break still open at the last date, as the items mart does
    last = _query(broken["db"], "select d.breaks_outstanding, q.reconciliation_breaks_outstanding "
                                "from marts.fct_reconciliation_daily as d inner join marts.fct_data_quality_daily as q "
                                "on q.business_date = d.business_date and q.feed = 'custody_entries' "
                                "order by d.business_date desc limit 1")[0]
    assert last[0] == last[1] == sum(1 for v in items.values() if v[4]) >= len(broken["damage"].items)


def test_rollforward_and_client_money_after_damage(broken):
    day = broken["damage"].client_money_day
    row = _query(broken["db"], f"select custody_balance, client_cash, break_amount, coverage_ratio, has_break "
                               f"from marts.fct_client_money_daily where business_date = '{day}'")[0]
    assert row[2] == Decimal("-100.00") == row[0] - row[1] and row[4] and row[3] < 1
    breaks = _query(broken["db"], "select custody_account, business_date, opening_break, rollforward_break "
                                  "from marts.fct_custody_rollforward_daily where has_break order by 2, 1")
    assert (CMP, day, Decimal("0.00"), Decimal("-100.00")) in breaks
    next_day = broken["damage"].days[broken["damage"].days.index(day) + 1]
    assert any(b[:3] == (CMP, next_day, Decimal("100.00")) for b in breaks)


def test_tolerance_var_accepts_small_amount_breaks(broken):
    """With reconciliation_tolerance 0.60 the 0.01 and 0.50 amount breaks pass; the other breaks still fail."""
    small = broken["damage"].small_breaks
    default = broken["failures"]["assert_reconciliation_within_tolerance"]
    assert all(any(e2e in r[4] and r[3] == "custody.amount_break" for r in default) for e2e in small)
    proc = run_dbt(["test", "--store-failures", "--select", "assert_reconciliation_within_tolerance",
                    "--vars", "{reconciliation_tolerance: 0.60}"], broken["db"], broken["work"] / "target", check=False)
    assert proc.returncode != 0
    rows = _query(broken["db"], 'select rule, detail from gate_failures."assert_reconciliation_within_tolerance"')
    assert not any(e2e in r[1] for r in rows for e2e in small)
    assert {r[0] for r in rows} >= {"custody.missing_entry", "custody.unmatched_entry", "custody.date_mismatch",
                                    "custody.amount_break"}

