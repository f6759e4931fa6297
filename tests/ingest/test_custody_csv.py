"""Custody CSV export reader: same statement as the XML form, and refusals naming file, line and rule."""
from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from assets.common.errors import FeedError
from assets.ingest.readers.camt053 import parse_camt053
from assets.ingest.readers.custody_csv import read_custody_csv
from assets.ingest.readers.custody_model import statements_equal

from .test_camt053 import _checker, checker_view, our_view

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "camt053"
CSV_DIR = FIXTURES / "custody_day_csv"


def read(d: Path = CSV_DIR, **kw):
    return read_custody_csv(d / "entries.csv", d / "balances.csv", **kw)


def edited(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of the fixture pair with one text replacement in one file."""
    d = tmp_path / "custody"
    shutil.copytree(CSV_DIR, d)
    p = d / name
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return d


def refusal(d: Path) -> FeedError:
    with pytest.raises(FeedError) as exc:
        read(d, display_dir="2024-03-01/custody")
    return exc.value


def test_csv_form_equals_xml_form() -> None:
    (xml,) = parse_camt053(FIXTURES / "custody_day.v08.xml")
    (csv_st,) = read(display_dir="2024-03-01/custody")
    assert statements_equal(xml, csv_st) == []
    assert (csv_st.form, csv_st.file) == ("csv", "2024-03-01/custody/entries.csv")
    e = {x.entry_ref: x for x in csv_st.entries}
    assert e["E2"].booking_date == date(2024, 3, 1) and e["E2"].value_date is None  # timestamp with offset
    assert e["E4"].booking_date == date(2024, 3, 1)  # 17:30Z is the next day in Asia/Shanghai
    assert (e["E4"].reversal, e["E4"].signed_amount) == (True, Decimal("50.00"))
    assert e["BANK-REF-9"].end_to_end_id is None and e["E3"].remittance is None
    assert [b.source_row for b in csv_st.balances] == ["2", "3"] and e["E1"].source_row == "2"


def test_statements_equal_reports_differences() -> None:
    (xml,) = parse_camt053(FIXTURES / "custody_day.v08.xml")
    (csv_st,) = read()
    bal = csv_st.balances
    changed = dataclasses.replace(
        csv_st, currency="EUR",
        balances=[bal[0], dataclasses.replace(bal[1], credit_debit="DBIT")],
        entries=[dataclasses.replace(x, amount=Decimal("500.01"), entry_amount=Decimal("500.01"))
                 if x.entry_ref == "E1" else dataclasses.replace(x, remittance="other") if x.entry_ref == "E2"
                 else x for x in csv_st.entries if x.entry_ref != "E3"])
    diffs = statements_equal(xml, changed)
    assert any(d.startswith("currency") for d in diffs)
    assert any(d.startswith("CLBD") for d in diffs)
    assert any("'E1' amount" in d for d in diffs)
    assert any("'E2' remittance" in d for d in diffs)
    assert any("'E3': only in the xml form" in d for d in diffs)


def test_batch_entry_compares_as_its_sum() -> None:
    """A batch's TxDtls rows are summed back into one entry before comparing with another form."""
    (xml,) = parse_camt053(FIXTURES / "batch.v08.xml")
    one = dataclasses.replace(xml, form="csv", entries=[dataclasses.replace(
        xml.entries[0], amount=Decimal("300.00"), credit_debit="DBIT", end_to_end_id="WDR-0101")])
    diffs = statements_equal(xml, one)
    assert not any(" amount" in d for d in diffs)
    assert any("end_to_end_ids" in d for d in diffs)  # three ids in the XML, one in the other form


def test_missing_column_rejected(tmp_path: Path) -> None:
    d = edited(tmp_path, "entries.csv", "credit_debit,reversal", "reversal")
    err = refusal(d)
    assert (err.rule, err.file, err.row) == ("columns.missing", "2024-03-01/custody/entries.csv", 1)
    assert "credit_debit" in err.message


@pytest.mark.parametrize("bad", ["12,5", "-10.00", "1e3", "abc", " 10.00"])
def test_bad_amount_rejected_with_file_line_rule(tmp_path: Path, bad: str) -> None:
    d = edited(tmp_path, "entries.csv", ",120.50,", f',"{bad}",')
    err = refusal(d)
    assert (err.rule, err.file, err.row) == ("value.type", "2024-03-01/custody/entries.csv", 3)
    assert "amount" in err.message


@pytest.mark.parametrize(("name", "old", "new", "rule", "line"), [
    ("balances.csv", "2024-02-29,1000.00", "29/02/2024,1000.00", "value.type", 2),
    ("entries.csv", "E2,2024-03-01T10:15:00+08:00", "E2,2024-03-01T10:15:00", "time.offset", 3),
    ("entries.csv", "CRDT,true", "CRDT,yes", "value.enum", 5),
    ("entries.csv", "CNY,E1", "cny,E1", "value.currency", 2),
    ("balances.csv", "CNY,CLBD", "CNY,CLAV", "value.enum", 3),
    ("entries.csv", ",E3,", ",,", "value.required", 4),
    ("entries.csv", "CLIENT_MARGIN_POOL,CNY,E3", "CAPITAL_POOL,CNY,E3", "custody.statement", 4),
    ("entries.csv", "FEE-0001,\n", "FEE-0001\n", "row.malformed", 4),
])
def test_bad_values_rejected(tmp_path: Path, name: str, old: str, new: str, rule: str, line: int) -> None:
    err = refusal(edited(tmp_path, name, old, new))
    assert (err.rule, err.file, err.row) == (rule, f"2024-03-01/custody/{name}", line)


def test_unreadable_files_rejected(tmp_path: Path) -> None:
    d = edited(tmp_path, "entries.csv", "Withdrawal", "Retrait")
    (d / "entries.csv").write_bytes((d / "entries.csv").read_text().replace("Retrait", "Retrait Côte").encode("latin-1"))
    err = refusal(d)
    assert (err.rule, err.file) == ("file.read", "2024-03-01/custody/entries.csv") and "not UTF-8" in err.message
    (d / "balances.csv").write_text("")
    err = refusal(d)
    assert (err.rule, err.file) == ("file.read", "2024-03-01/custody/balances.csv")


def test_header_only_files_give_no_statement(tmp_path: Path) -> None:
    d = tmp_path / "empty"
    d.mkdir()
    for name in ("entries.csv", "balances.csv"):
        (d / name).write_text((CSV_DIR / name).read_text().splitlines()[0] + "\n")
    assert read(d) == []


def test_currency_mix_is_kept_for_the_gate(tmp_path: Path) -> None:
    (st,) = read(edited(tmp_path, "entries.csv", "CNY,E2", "USD,E2"))
    assert st.currency == "CNY" and {e.currency for e in st.entries} == {"CNY", "USD"}


def test_reading_agrees_with_check_landing() -> None:
    mod = _checker()
    report = mod.Report()
    theirs = mod.Checker(FIXTURES, report)._custody_csv(CSV_DIR / "entries.csv", CSV_DIR / "balances.csv")
    assert not report.fired(mod.ERROR)
    assert our_view(read()) == checker_view(theirs)
