"""Great Expectations suites of the raw feeds: built from the registry, run chunked over DuckDB partitions."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from assets.ingest.feeds import FEEDS, FEEDS_BY_NAME, LINEAGE_COLUMNS
from assets.ingest.load import ensure_schema
from assets.quality.gx_runner import ValidationReport, end_of_business_date_utc, validate_partition
from assets.quality.suites import build_suite, checks

BD = "2024-01-02"
TS = "2024-01-02 02:00:00"  # naive UTC = 10:00 Asia/Shanghai

# One valid row per feed (i varies the key); every test starts from these and breaks one thing.
CLEAN = {
    "trades": lambda i: {
        "fill_id": f"F{i}", "order_id": f"O{i}", "account_id": "A1", "symbol": "600000",
        "side": "BUY" if i % 2 else "SELL", "quantity": 100, "price": "10.5", "commission": "1.25",
        "executed_at": TS, "origin": "CLIENT", "liquidation_id": None},
    "capital_events": lambda i: {
        "event_id": f"C{i}", "provider_id": "P1", "tranche": "SENIOR", "type": "CONTRIBUTION",
        "amount": "1000000.00", "currency": "CNY", "event_date": BD, "settlement_date": BD,
        "end_to_end_id": f"E2E{i}"},
    "ledger_entries": lambda i: {
        "entry_id": f"L{i}", "business_date": BD, "account_id": "A1", "type": "DEPOSIT",
        "amount": "100000.00", "currency": "CNY", "end_to_end_id": f"E2E{i}"},
    "risk_events": lambda i: {
        "event_id": f"R{i}", "account_id": "A1", "type": "WARNING", "event_time": TS,
        "equity": "17000.00", "gross_exposure": "100000.00", "margin_ratio": "0.17", "liquidation_id": None},
    "providers": lambda i: {
        "provider_id": f"P{i}", "name": f"Provider {i}", "tranche": "SENIOR", "commitment": "5000000.00",
        "coupon_rate": "0.05", "currency": "CNY"},
    "accounts": lambda i: {
        "account_id": f"A{i}", "client_id": f"K{i}", "group_id": "G1", "kyc_tier": "T1", "credit_score": 700,
        "leverage_tier": "2", "im_rate": "0.2", "warning_rate": "0.175", "mm_rate": "0.15",
        "interest_rate": "0.06", "opened_on": "2023-06-01", "closed_on": None},
    "instruments": lambda i: {
        "symbol": f"60000{i}", "name": f"Stock {i}", "board": "MAIN", "liquidity_tier": "A", "currency": "CNY"},
    "market_prices": lambda i: {
        "symbol": f"60000{i}", "close": "10.5", "high": "11", "low": "10", "volume": 1000, "limit_status": "NONE"},
    "custody_entries": lambda i: {
        "statement_id": "S1", "custody_account": "CLIENT_MARGIN_POOL", "currency": "CNY", "entry_ref": f"R{i}",
        "tx_seq": 1, "booking_date": BD, "value_date": BD, "entry_amount": "100.00", "amount": "100.00",
        "credit_debit": "CRDT", "reversal": False, "status": "BOOK", "end_to_end_id": f"E2E{i}",
        "remittance": "DEPOSIT A1"},
    "custody_balances": lambda i: {
        "statement_id": f"S{i}", "custody_account": "CAPITAL_POOL", "currency": "CNY", "type": "OPBD", "date": BD,
        "amount": "100.00", "credit_debit": "CRDT"},
}


def file_of(feed: str) -> str:
    return f"{BD}/{FEEDS_BY_NAME[feed].folder}/{feed}.csv"


def load(con, feed: str, rows: list[dict], *, file: str | None = None, manifest: dict | None = None) -> None:
    """Insert rows as the loader would (lineage: file, CSV line = index + 2) and record the file."""
    file = file or file_of(feed)
    cols = [c.name for c in FEEDS_BY_NAME[feed].columns]
    lineage = [n for n, _ in LINEAGE_COLUMNS]
    sql = (f"INSERT INTO raw.{feed} ({', '.join(cols + lineage)}) "
           f"VALUES ({', '.join('?' for _ in cols + lineage)})")
    con.executemany(sql, [[r[c] for c in cols] + [BD, file, "sha", str(i + 2), TS, "run"] for i, r in enumerate(rows)])
    m = {"rows_in_file": len(rows), "rows_loaded": len(rows), "rows_quarantined": 0, "rows_duplicate": 0,
         **(manifest or {})}
    con.execute("INSERT INTO raw.file_manifest (feed, business_date, file, file_name, sha256, size_bytes, "
                "rows_in_file, rows_loaded, rows_quarantined, rows_duplicate, extra_columns, loaded_at, run_id) "
                "VALUES (?, ?, ?, ?, 'sha', 1, ?, ?, ?, ?, NULL, ?, 'run')",
                [feed, BD, file, Path(file).name, m["rows_in_file"], m["rows_loaded"], m["rows_quarantined"],
                 m["rows_duplicate"], TS])


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(c)
    yield c
    c.close()


def rows_of(feed: str, n: int = 4, changes: dict[int, dict] | None = None) -> list[dict]:
    rows = [CLEAN[feed](i) for i in range(1, n + 1)]
    for i, change in (changes or {}).items():
        rows[i].update(change)
    return rows


def the(report: ValidationReport, rule: str, column: str | None = None):
    found = [o for o in report.outcomes if o.rule == rule and (column is None or column in o.columns)]
    assert len(found) == 1, (rule, column, [(o.rule, o.columns) for o in report.outcomes])
    return found[0]


# ----------------------------------------------------------------------------- suites
def test_every_feed_has_a_suite_built_from_the_registry():
    assert set(CLEAN) == {f.name for f in FEEDS}
    for feed in FEEDS:
        suite = build_suite(feed)
        exps = suite.expectations
        assert suite.name == feed.table
        assert all(e.meta.get("rule") and e.description for e in exps)
        assert len({e.meta["check"] for e in exps}) == len(exps)
        cols = next(e for e in exps if e.expectation_type == "expect_table_columns_to_match_set").column_set
        assert set(cols) == {c.name for c in feed.columns} | {n for n, _ in LINEAGE_COLUMNS}
        not_null = {e.column for e in exps if e.meta["rule"] == "value.required"}
        assert not_null == {c.name for c in feed.columns if c.required}
        assert {e.column for e in exps if e.meta["rule"] == "value.enum"} == \
            {c.name for c in feed.columns if c.kind == "enum"}
        assert {e.column for e in exps if e.meta["rule"] == "value.range"} == \
            {c.name for c in feed.columns if c.min is not None or c.max is not None}
        assert any(e.meta["rule"] == f"unique.{'+'.join(feed.key)}" for e in exps)
        assert {e.meta["engine"] for e in exps if e.meta["rule"].startswith(("unique.", "manifest."))} == {"duckdb"}


def test_importing_the_quality_modules_does_not_import_gx():
    code = ("import sys, assets.quality.suites, assets.quality.gx_runner; "
            "assert 'great_expectations' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_end_of_business_date_is_shanghai_midnight_in_utc():
    assert str(end_of_business_date_utc(BD)) == "2024-01-02 16:00:00"


# ----------------------------------------------------------------------------- clean data
@pytest.mark.parametrize("feed", [f.name for f in FEEDS])
def test_clean_partition_passes_every_expectation(con, feed):
    load(con, feed, rows_of(feed))
    report = validate_partition(con, FEEDS_BY_NAME[feed], BD)
    assert report.success, report.to_markdown()
    assert report.rows_validated == 4
    assert [o.check for o in report.outcomes] == [c.id for c in checks(FEEDS_BY_NAME[feed])]


def test_semantic_rules_accept_what_the_spec_allows(con):
    load(con, "ledger_entries", rows_of("ledger_entries", 3, {
        0: {"type": "TRADE_SETTLEMENT", "amount": "-2500.00"},  # the one signed type
        1: {"type": "WRITE_OFF", "end_to_end_id": None}}))
    load(con, "trades", rows_of("trades", 2, {
        0: {"origin": "LIQUIDATION", "liquidation_id": "LQ000001"},
        1: {"executed_at": "2024-01-02 16:00:00"}}))  # exactly 24:00 Asia/Shanghai
    load(con, "risk_events", rows_of("risk_events", 2, {
        0: {"type": "DEFAULT", "equity": "-1200.00", "liquidation_id": "LQ1"}}))
    load(con, "capital_events", rows_of("capital_events", 2, {
        0: {"type": "LOSS_ALLOCATION", "end_to_end_id": None},
        1: {"type": "REDEMPTION_REQUEST", "end_to_end_id": None, "settlement_date": "2024-01-31"}}))
    load(con, "providers", rows_of("providers", 2, {0: {"tranche": "JUNIOR", "coupon_rate": None}}))
    for feed in ("ledger_entries", "trades", "risk_events", "capital_events", "providers"):
        report = validate_partition(con, FEEDS_BY_NAME[feed], BD)
        assert report.success, report.to_markdown()


# ----------------------------------------------------------------------------- violations
# Per feed: (rule, column, {row index: changes}) — each case breaks its own rows (row i is CSV line i + 2),
# so one partition per feed shows every rule firing on exactly its rows and nothing else failing.
VIOLATIONS = {
    "trades": [
        ("value.required", "symbol", {0: {"symbol": None}}),
        ("value.enum", "side", {1: {"side": "HOLD"}, 7: {"side": "SHORT"}}),
        ("value.absurd_price", "price", {2: {"price": "1000000.01"}}),
        ("value.absurd_quantity", "quantity", {3: {"quantity": 100_000_001}}),
        ("liquidation.id_required", "liquidation_id", {4: {"origin": "LIQUIDATION"}}),
        ("time.future", "executed_at", {5: {"executed_at": "2024-01-02 16:00:01"}}),  # 00:00:01 next day, Shanghai
    ],
    "capital_events": [
        ("value.range", "amount", {0: {"amount": "-5.00"}}),
        ("value.currency", "currency", {1: {"currency": "cny"}}),
        ("e2e.empty", "end_to_end_id", {2: {"type": "REDEMPTION_REQUEST"}}),
        ("e2e.required", "end_to_end_id", {3: {"end_to_end_id": None}}),
        ("capital.settles_after_event", "settlement_date", {4: {"settlement_date": "2024-01-01"}}),
    ],
    "ledger_entries": [
        ("ledger.amount_sign", "amount", {0: {"amount": "-10.00"}}),
        ("value.absurd_amount", "amount", {1: {"amount": "10000000000.01"}}),
        ("e2e.required", "end_to_end_id", {2: {"end_to_end_id": None}}),  # a DEPOSIT
        ("e2e.empty", "end_to_end_id", {3: {"type": "WRITE_OFF"}}),
    ],
    "risk_events": [
        ("risk.default_equity", "equity", {0: {"type": "DEFAULT", "equity": "500.00", "liquidation_id": "LQ1"}}),
        ("liquidation.id_required", "liquidation_id", {1: {"type": "LIQUIDATION_TRIGGER"}}),
        ("time.future", "event_time", {2: {"event_time": "2024-01-03 01:00:00"}}),
    ],
    "accounts": [
        ("rates.mm_le_warning", "mm_rate", {0: {"mm_rate": "0.18"}}),
        ("value.range", "im_rate", {1: {"im_rate": "1.5"}}),
        ("dates.opened_le_closed", "closed_on", {2: {"closed_on": "2023-01-01"}}),
    ],
    "providers": [
        ("coupon.empty", "coupon_rate", {0: {"tranche": "JUNIOR"}}),
        ("coupon.required", "coupon_rate", {1: {"coupon_rate": None}}),
    ],
    "market_prices": [
        ("market.low_le_close", "low", {0: {"low": "10.6"}}),
        ("market.close_le_high", "high", {1: {"high": "10.4"}}),
    ],
    "custody_entries": [
        ("value.absurd_amount", "amount", {0: {"amount": "200000000000000.00"}}),
        ("value.range", "tx_seq", {1: {"tx_seq": 0}}),
    ],
}


@pytest.mark.parametrize("feed", list(VIOLATIONS))
def test_violations_fail_with_rule_count_and_sample_rows(con, feed):
    cases = VIOLATIONS[feed]
    changes = {i: c for _, _, rows in cases for i, c in rows.items()}
    load(con, feed, rows_of(feed, max(changes) + 2, changes))
    report = validate_partition(con, FEEDS_BY_NAME[feed], BD)
    assert not report.success
    assert sorted((f.rule, f.unexpected_count) for f in report.failures) == \
        sorted((rule, len(rows)) for rule, _, rows in cases)
    markdown = report.to_markdown()
    for rule, column, rows in cases:
        o = the(report, rule, column)
        count = len(rows)
        assert not o.success and o.unexpected_count == count and o.unexpected_percent > 0
        assert [s["_source_row"] for s in o.samples] == [str(i + 2) for i in sorted(rows)]
        assert {s["_source_file"] for s in o.samples} == {file_of(feed)}
        assert all(column in s for s in o.samples)
        assert feed in o.message and file_of(feed) in o.message and rule in o.message and f" {count} " in o.message
        assert f"`{rule}`" in markdown and f"{file_of(feed)}:{min(rows) + 2}" in markdown


def test_sample_values_are_exact_decimals(con):
    load(con, "ledger_entries", rows_of("ledger_entries", 2, {1: {"amount": "12345678901.23"}}))
    o = the(validate_partition(con, FEEDS_BY_NAME["ledger_entries"], BD), "value.absurd_amount")
    assert o.samples == [{"_source_file": file_of("ledger_entries"), "_source_row": "3", "entry_id": "L2",
                          "amount": "12345678901.23"}]


def test_duplicate_key_within_the_date(con):
    load(con, "trades", rows_of("trades", 5, {3: {"fill_id": "F1"}}))
    o = the(validate_partition(con, FEEDS_BY_NAME["trades"], BD), "unique.fill_id")
    assert (o.success, o.unexpected_count, o.unexpected_percent) == (False, 2, 40.0)
    assert o.expectation_type == "expect_column_values_to_be_unique"
    assert [(s["_source_row"], s["fill_id"]) for s in o.samples] == [("2", "F1"), ("5", "F1")]


def test_duplicate_compound_key(con):
    load(con, "custody_balances", rows_of("custody_balances", 3, {2: {"statement_id": "S1"}}))
    report = validate_partition(con, FEEDS_BY_NAME["custody_balances"], BD)
    o = the(report, "unique.statement_id+type")
    assert o.expectation_type == "expect_compound_columns_to_be_unique"
    assert (o.success, o.unexpected_count, o.columns) == (False, 2, ("statement_id", "type"))
    assert [s["_source_row"] for s in o.samples] == ["2", "4"]
    assert [f.rule for f in report.failures] == ["unique.statement_id+type"]


def test_same_key_on_another_date_is_not_a_duplicate(con):
    load(con, "trades", rows_of("trades", 2))
    con.execute("INSERT INTO raw.trades SELECT * REPLACE (DATE '2024-01-03' AS _business_date) FROM raw.trades")
    assert validate_partition(con, FEEDS_BY_NAME["trades"], BD).success


def test_manifest_rows_loaded_mismatch(con):
    load(con, "trades", rows_of("trades", 4), manifest={"rows_loaded": 5, "rows_in_file": 5})
    report = validate_partition(con, FEEDS_BY_NAME["trades"], BD)
    o = the(report, "manifest.rows_loaded")
    assert o.expectation_type == "expect_table_row_count_to_equal"
    assert (o.success, o.unexpected_count) == (False, 1)
    assert o.observed == {"rows_in_table": 4, "manifest_rows_loaded": 5}
    assert o.samples == [{"_source_file": file_of("trades"), "_source_row": "-", "rows_in_table": 4, "rows_loaded": 5}]
    assert [f.rule for f in report.failures] == ["manifest.rows_loaded"]


def test_rows_without_a_manifest_entry(con):
    load(con, "trades", rows_of("trades", 2))
    load(con, "trades", rows_of("trades", 2, {0: {"fill_id": "F7"}, 1: {"fill_id": "F8"}}),
         file=f"{BD}/trades/late.csv")
    con.execute("DELETE FROM raw.file_manifest WHERE file LIKE '%late.csv'")
    o = the(validate_partition(con, FEEDS_BY_NAME["trades"], BD), "manifest.rows_loaded")
    assert (o.success, o.unexpected_count) == (False, 2)
    assert "late.csv" in o.message and [s["_source_file"] for s in o.samples] == [f"{BD}/trades/late.csv"]


def test_manifest_file_rows_do_not_add_up(con):
    load(con, "ledger_entries", rows_of("ledger_entries", 4), manifest={"rows_in_file": 6, "rows_quarantined": 1})
    report = validate_partition(con, FEEDS_BY_NAME["ledger_entries"], BD)
    o = the(report, "manifest.file_rows")
    assert (o.success, o.unexpected_count) == (False, 1)
    assert o.samples[0]["rows_in_file"] == 6 and o.samples[0]["_source_file"] == file_of("ledger_entries")
    assert [f.rule for f in report.failures] == ["manifest.file_rows"]


def test_schema_drift_fails_the_columns_expectation(con):
    con.execute("ALTER TABLE raw.instruments ADD COLUMN sector VARCHAR")
    load(con, "instruments", rows_of("instruments", 2))
    o = the(validate_partition(con, FEEDS_BY_NAME["instruments"], BD), "schema.columns")
    assert not o.success and o.unexpected_count == 1 and "sector" in o.message


def test_missing_column_fails_schema_and_the_checks_that_need_it(con):
    con.execute("ALTER TABLE raw.instruments DROP COLUMN board")
    con.execute(f"INSERT INTO raw.instruments VALUES ('600000', 'X', 'A', 'CNY', DATE '{BD}', 'f.csv', 'sha', '2', "
                "now(), 'run')")
    report = validate_partition(con, FEEDS_BY_NAME["instruments"], BD)
    assert "board" in the(report, "schema.columns").message
    enum = the(report, "value.enum", "board")
    assert not enum.success and "could not be evaluated" in enum.message and "board" in enum.message


def test_empty_partition_still_checks_schema_and_counts(con):
    report = validate_partition(con, FEEDS_BY_NAME["trades"], BD)
    assert report.success and report.rows_validated == 0 and report.chunks == 1
    assert the(report, "schema.columns").success


# ----------------------------------------------------------------------------- chunking
def _comparable(report: ValidationReport):
    return [(o.rule, o.columns, o.success, o.unexpected_count, round(o.unexpected_percent, 9), o.samples, o.message)
            for o in report.outcomes]


def test_chunked_validation_equals_one_chunk(con):
    rows = rows_of("trades", 10, {
        1: {"side": "HOLD"},  # chunk 1
        4: {"price": "2000000"},  # chunk 2
        6: {"fill_id": "F1"},  # duplicate of row 0 (chunk 1), in chunk 3
        8: {"symbol": None, "side": "HOLD"},  # chunk 3
        9: {"executed_at": "2024-01-03 00:00:00"},  # chunk 4 (one row)
    })
    load(con, "trades", rows)
    chunked = validate_partition(con, FEEDS_BY_NAME["trades"], BD, chunk_rows=3)
    whole = validate_partition(con, FEEDS_BY_NAME["trades"], BD)
    assert (chunked.chunks, whole.chunks) == (4, 1)
    assert _comparable(chunked) == _comparable(whole)
    assert {f.rule: f.unexpected_count for f in chunked.failures} == {
        "value.enum": 2, "value.absurd_price": 1, "unique.fill_id": 2, "value.required": 1, "time.future": 1}
    enum = the(chunked, "value.enum", "side")
    assert [s["_source_row"] for s in enum.samples] == ["3", "10"] and enum.unexpected_percent == 20.0


def test_sample_rows_are_capped(con):
    load(con, "trades", rows_of("trades", 9, {i: {"side": "HOLD"} for i in range(9)}))
    o = the(validate_partition(con, FEEDS_BY_NAME["trades"], BD, chunk_rows=2, sample_rows=3), "value.enum", "side")
    assert o.unexpected_count == 9 and len(o.samples) == 3
