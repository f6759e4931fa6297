"""The raw loader: every row of every file accounted for, partitions replaced exactly, bad files refused."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from assets.common.errors import FeedError
from assets.ingest.feeds import FEEDS, TABLE_FEEDS
from assets.ingest.load import business_dates, load_feed, load_landing

DAY = "2026-09-02"


def csv_rows(path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


@pytest.fixture()
def landing(sample_landing, tmp_path) -> Path:
    """A private copy of two business dates of the sample landing zone (tests may damage it)."""
    out = tmp_path / "landing"
    for day in business_dates(sample_landing)[:2]:
        shutil.copytree(sample_landing / day, out / day)
    return out


@pytest.fixture()
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield c
    c.close()


def count(con, table: str, day: str = DAY) -> int:
    return con.execute(f"select count(*) from {table} where _business_date = ?", [day]).fetchone()[0]


def test_row_counts_equal_file_rows(sample_warehouse, sample_landing):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    for feed in TABLE_FEEDS:
        for day in business_dates(sample_landing)[:3]:
            files = sorted((sample_landing / day / feed.folder).glob(feed.patterns[0]))
            expected = sum(csv_rows(f) for f in files)
            assert count(con, feed.table, day) == expected, (feed.name, day)
    # custody: every entry (one row per transaction) and both balances of every statement
    from assets.ingest.readers.camt053 import parse_camt053

    for day in business_dates(sample_landing)[:3]:
        sts = [s for p in sorted((sample_landing / day / "custody").glob("*.xml")) for s in parse_camt053(p)]
        assert count(con, "raw.custody_entries", day) == sum(len(s.entries) for s in sts)
        assert count(con, "raw.custody_balances", day) == 2 * len(sts) == 8
    # the manifest accounts for every row: loaded + quarantined + duplicate = rows in the file
    bad = con.execute("select * from raw.file_manifest "
                      "where rows_loaded + rows_quarantined + rows_duplicate <> rows_in_file").fetchall()
    assert bad == []
    con.close()


def test_lineage_points_at_the_source_row(sample_warehouse, sample_landing):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    fill_id, file, row = con.execute(
        "select fill_id, _source_file, _source_row from raw.trades order by _source_file, fill_id limit 1 offset 7"
    ).fetchone()
    with open(sample_landing / file, newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines[int(row) - 1][0] == fill_id  # line numbers count the header as line 1
    sha = con.execute("select distinct _source_sha256 from raw.trades where _source_file = ?", [file]).fetchone()[0]
    import hashlib

    assert sha == hashlib.sha256((sample_landing / file).read_bytes()).hexdigest()
    con.close()


def test_reload_is_idempotent(landing, con, tmp_path):
    load_landing(con, landing, [DAY])
    first = {f.table: con.execute(f"select * exclude (_loaded_at, _run_id) from {f.table} order by all").fetchall()
             for f in FEEDS}
    # unchanged files: nothing is redone, nothing changes
    again = load_landing(con, landing, [DAY], run_id="second")
    assert all(r.unchanged for r in again.values())
    for f in FEEDS:
        assert con.execute(f"select * exclude (_loaded_at, _run_id) from {f.table} order by all").fetchall() \
            == first[f.table], f.name
    # a re-delivered (changed) file replaces exactly that partition's rows: no duplicates, no leftovers
    path = landing / DAY / "trades" / "trades.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))
    res = load_feed(con, landing, DAY, "trades", run_id="third")["trades"]
    assert not res.unchanged and res.rows_loaded == len(lines) - 2
    rows = con.execute("select * exclude (_loaded_at, _run_id, _source_sha256) from raw.trades order by all").fetchall()
    before = [r for r in first["raw.trades"]]
    assert len(rows) == len(before) - 1
    assert con.execute("select count(distinct fill_id) = count(*) from raw.trades").fetchone()[0]
    assert con.execute("select count(*) from raw.file_manifest where feed = 'trades'").fetchone()[0] == 1


def test_parquet_handoff_written(landing, con, tmp_path):
    lake = tmp_path / "lake"
    load_feed(con, landing, DAY, "trades", lake=lake)
    out = lake / "raw" / "trades" / f"{DAY}.parquet"
    assert duckdb.sql(f"select count(*) from '{out}'").fetchone()[0] == count(con, "raw.trades")


def test_missing_feed_folder_fails_naming_it(landing, con):
    shutil.rmtree(landing / DAY / "ledger")
    with pytest.raises(FeedError) as e:
        load_feed(con, landing, DAY, "ledger_entries")
    assert e.value.rule == "layout.feed_missing" and f"{DAY}/ledger" in str(e.value)


def test_missing_file_fails(landing, con):
    (landing / DAY / "reference" / "accounts.csv").unlink()
    with pytest.raises(FeedError, match=r"layout.file_missing.*accounts.csv"):
        load_feed(con, landing, DAY, "accounts")


def test_schema_mismatch_refuses_file_and_keeps_previous_load(landing, con):
    load_feed(con, landing, DAY, "ledger_entries")
    before = count(con, "raw.ledger_entries")
    path = landing / DAY / "ledger" / "ledger.csv"
    text = path.read_text().replace("end_to_end_id", "e2e_id", 1)
    path.write_text(text)
    with pytest.raises(FeedError) as e:
        load_feed(con, landing, DAY, "ledger_entries")
    assert e.value.rule == "columns.missing" and "end_to_end_id" in e.value.message
    assert e.value.file == f"{DAY}/ledger/ledger.csv"
    assert count(con, "raw.ledger_entries") == before  # nothing lost, nothing half-replaced


def test_unreadable_file_refused(landing, con):
    path = landing / DAY / "trades" / "trades.csv"
    data = path.read_bytes()
    path.write_bytes(data[:200] + b"\xff\xfe" + data[200:])
    with pytest.raises(FeedError) as e:
        load_feed(con, landing, DAY, "trades")
    assert e.value.rule == "file.encoding" and "not UTF-8" in e.value.message


def test_empty_file_refused(landing, con):
    (landing / DAY / "market" / "prices.csv").write_bytes(b"")
    with pytest.raises(FeedError, match="no header"):
        load_feed(con, landing, DAY, "market_prices")


def test_duplicate_file_in_folder_refused(landing, con):
    src = landing / DAY / "trades" / "trades.csv"
    shutil.copy(src, src.with_name("trades_resent.csv"))
    with pytest.raises(FeedError) as e:
        load_feed(con, landing, DAY, "trades")
    assert e.value.rule == "file.duplicate" and "trades_resent.csv" in str(e.value)


def test_file_landed_again_under_another_date_refused(landing, con):
    days = business_dates(landing)
    load_feed(con, landing, days[0], "trades")
    shutil.copy(landing / days[0] / "trades" / "trades.csv", landing / days[1] / "trades" / "trades.csv")
    with pytest.raises(FeedError, match=f"already loaded as {days[0]}/trades/trades.csv"):
        load_feed(con, landing, days[1], "trades")


def test_bad_rows_are_quarantined_not_dropped(landing, con):
    path = landing / DAY / "trades" / "trades.csv"
    lines = path.read_text().splitlines(keepends=True)
    n = len(lines) - 1
    cells = lines[5].rstrip("\n").split(",")
    cells[5] = "ten"  # quantity
    lines[5] = ",".join(cells) + "\n"
    cells = lines[9].rstrip("\n").split(",")
    cells[8] = cells[8][:19]  # executed_at without its offset
    lines[9] = ",".join(cells) + "\n"
    path.write_text("".join(lines))
    res = load_feed(con, landing, DAY, "trades")["trades"]
    assert (res.rows_loaded, res.rows_quarantined) == (n - 2, 2)
    got = dict(con.execute("select _source_row, rule from raw.quarantine where feed = 'trades'").fetchall())
    assert got == {"6": "value.type", "10": "time.offset"}
    reason = con.execute("select reason from raw.quarantine where _source_row = '6'").fetchone()[0]
    assert reason == "quantity 'ten' is not an integer"


def test_custody_csv_export_loads_like_xml(landing, con, tmp_path):
    """The same statements as CSV export load to the same rows as the camt.053 files."""
    from assets.ingest.readers.camt053 import parse_camt053

    load_feed(con, landing, DAY, "custody_entries")
    xml_rows = con.execute("select statement_id, entry_ref, tx_seq, amount, credit_debit, end_to_end_id "
                           "from raw.custody_entries order by all").fetchall()
    folder = landing / DAY / "custody"
    sts = [s for p in sorted(folder.glob("*.xml")) for s in parse_camt053(p)]
    with open(folder / "entries.csv", "w", newline="") as fe, open(folder / "balances.csv", "w", newline="") as fb:
        we, wb = csv.writer(fe), csv.writer(fb)
        we.writerow(["statement_id", "custody_account", "currency", "entry_ref", "booking_date", "value_date",
                     "amount", "credit_debit", "reversal", "end_to_end_id", "remittance"])
        wb.writerow(["statement_id", "custody_account", "currency", "type", "date", "amount", "credit_debit"])
        for s in sts:
            for e in s.entries:
                we.writerow([s.statement_id, s.custody_account, e.currency, e.entry_ref, e.booking_date,
                             e.value_date or "", e.amount, e.credit_debit, str(e.reversal).lower(),
                             e.end_to_end_id or "", e.remittance or ""])
            for b in s.balances:
                wb.writerow([s.statement_id, s.custody_account, b.currency, b.type, b.date, b.amount, b.credit_debit])
    for p in folder.glob("*.xml"):
        p.unlink()
    load_feed(con, landing, DAY, "custody_entries")
    csv_rows_ = con.execute("select statement_id, entry_ref, tx_seq, amount, credit_debit, end_to_end_id "
                            "from raw.custody_entries order by all").fetchall()
    assert csv_rows_ == xml_rows
    assert con.execute("select count(distinct _source_file) from raw.custody_balances").fetchone()[0] == 1
