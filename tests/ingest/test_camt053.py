"""camt.053 reader: real samples (vs genkgo/camt's decoding), hand-made fixtures, refusals, and agreement
with the executable contract ../shared/tools/check_landing.py."""
from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from assets.common.errors import FeedError
from assets.ingest.readers.camt053 import parse_camt053
from assets.ingest.readers.custody_model import CustodyEntry, CustodyStatement

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "camt053"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SAMPLES = SHARED / "samples" / "camt053"


def samples_dir() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"real camt.053 samples not found at {SAMPLES} (../shared is not beside the repository)")
    return SAMPLES


def refusal(path: Path, **kw) -> FeedError:
    with pytest.raises(FeedError) as exc:
        parse_camt053(path, **kw)
    return exc.value


def entries_by_ref(st: CustodyStatement) -> dict[str, list[CustodyEntry]]:
    out: dict[str, list[CustodyEntry]] = {}
    for e in st.entries:
        out.setdefault(e.entry_ref, []).append(e)
    return out


# ------------------------------------------------------------------ real samples vs genkgo/camt
MINOR_EXP = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}  # ISO 4217; else 2
GENKGO_TYPES = {"opening": "OPBD", "closing": "CLBD"}  # the rest (opening_available, ...) we skip


def minor(amount: Decimal, ccy: str) -> str:
    v = amount.scaleb(MINOR_EXP.get(ccy, 2))
    assert v == v.to_integral_value(), f"{amount} {ccy} is not a whole number of minor units"
    return str(int(v))


def genkgo(name: str) -> dict:
    """genkgo's JSON snapshot, indexed. Its Message::getEntries() is an AppendIterator of per-statement
    arrays, all keyed from 0, so the snapshot keeps only the last statement's entries for each index
    (and a statement is only spelled out through an entry's getRecord): compare what it shows."""
    doc = json.loads((samples_dir() / name).read_text(encoding="utf-8"))
    records: dict[str, dict] = {}
    entries: dict[tuple[str, int], dict] = {}
    for e in doc["getEntries"]:
        rec = e["getRecord"]
        records.setdefault(rec["getId"], rec)
        entries[(rec["getId"], e["getIndex"])] = e
    return {"n_records": len(doc["getRecords"]), "records": records, "entries": entries,
            "message_id": doc["getGroupHeader"]["getMessageId"]}


def day(obj: dict | None) -> date | None:
    return None if obj is None else date.fromisoformat(obj["0"][:10])


@pytest.mark.parametrize("name", ["camt053.v2.multi.statement", "camt053.v4"])
def test_sample_matches_genkgo(name: str) -> None:
    want = genkgo(f"{name}.json")
    got = {st.statement_id: st for st in parse_camt053(samples_dir() / f"{name}.xml")}
    assert len(got) == want["n_records"]
    assert want["records"], "the snapshot shows no statement"
    for sid, rec in want["records"].items():
        st = got[sid]
        assert st.custody_account == rec["getAccount"]["getIdentification"]
        assert st.message_id == want["message_id"]
        assert st.created_at == datetime.fromisoformat(rec["getCreatedOn"]["0"]).astimezone(UTC)
        wb = [(GENKGO_TYPES[b["getType"]], b["getAmount"]["getAmount"], b["getAmount"]["getCurrency"]["getCode"],
               day(b["getDate"])) for b in rec["getBalances"] if b["getType"] in GENKGO_TYPES]
        gb = [(b.type, minor(b.signed_amount, b.currency), b.currency, b.date) for b in st.balances]
        assert gb == wb
        heads = [e for e in st.entries if e.tx_seq == 1]  # one per Ntry (no batches in the samples)
        assert len(heads) == len(st.entries) == len(rec["getEntries"])
        for (rid, i), e in want["entries"].items():
            if rid != sid:
                continue
            ours = heads[i]
            tx = e["getTransactionDetail"]
            assert minor(ours.signed_amount, ours.currency) == e["getAmount"]["getAmount"]
            assert ours.currency == e["getAmount"]["getCurrency"]["getCode"]
            assert ours.credit_debit == e["getCreditDebitIndicator"]
            assert ours.booking_date == day(e["getBookingDate"])
            assert ours.value_date == day(e["getValueDate"])
            assert ours.end_to_end_id == (tx["getReference"]["getEndToEndId"] if tx else None)
            assert ours.reversal is bool(e["getReversalIndicator"])
            assert ours.status == e["getStatus"]
            assert ours.entry_ref == (e["getReference"] or e["getAccountServicerReference"] or f"#{i + 1}")


def test_sample_multi_statement_first_statement() -> None:
    """The first statement, which genkgo's snapshot cannot show (see genkgo()), read from the XML by eye."""
    first, second = parse_camt053(samples_dir() / "camt053.v2.multi.statement.xml")
    assert (first.statement_id, second.statement_id) == ("253EURNL26VAYB8060476890", "254EURNL26VAYB8060476890")
    assert [(b.type, b.signed_amount, b.date) for b in first.balances] == [
        ("OPBD", Decimal("18.15"), date(2014, 12, 30)), ("CLBD", Decimal("27.00"), date(2014, 12, 31))]
    (e,) = first.entries
    assert (e.signed_amount, e.currency, e.end_to_end_id, e.remittance) == (
        Decimal("8.85"), "EUR", "000000001", "Transaction Description 1")
    assert (e.booking_date, e.value_date, e.reversal, e.status) == (date(2014, 12, 31), date(2015, 1, 2), False, "BOOK")


def test_sample_v4_multi_currency_no_rollforward_parses() -> None:
    (st,) = parse_camt053(samples_dir() / "camt053.v4.xml")
    assert st.currency == "EUR"  # no Acct/Ccy: the first kept balance's
    assert [(b.type, b.currency, b.signed_amount) for b in st.balances] == [
        ("OPBD", "EUR", Decimal("18.15")), ("CLBD", "SEK", Decimal("-27.00"))]  # OPAV/CLAV skipped
    assert [b.source_row for b in st.balances] == [
        "Stmt[253EURNL26VAYB8060476890]/Bal[1]", "Stmt[253EURNL26VAYB8060476890]/Bal[2]"]
    (e,) = st.entries
    # a lone TxDtls/Amt (0 SEK) is not the booked amount: the entry's 8.85 EUR is
    assert (e.amount, e.currency, e.entry_ref) == (Decimal("8.85"), "EUR", "AAAASESS-FP-CN_98765/01")


def test_sample_without_statement_is_refused() -> None:
    err = refusal(samples_dir() / "camt053.v2.wrong.xml", display_name="custody/camt053.v2.wrong.xml")
    assert err.rule == "custody.parse" and err.file == "custody/camt053.v2.wrong.xml"
    assert "no <Stmt> statement" in err.message


# ------------------------------------------------------------------ hand-made fixtures
def test_platform_statement_v08() -> None:
    (st,) = parse_camt053(FIXTURES / "custody_day.v08.xml")
    assert (st.statement_id, st.custody_account, st.currency, st.form) == (
        "CMP-20240301", "CLIENT_MARGIN_POOL", "CNY", "xml")
    assert st.message_id == "MSG-20240301-CMP"
    assert st.created_at == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert [(b.type, b.date, b.signed_amount) for b in st.balances] == [
        ("OPBD", date(2024, 2, 29), Decimal("1000.00")), ("CLBD", date(2024, 3, 1), Decimal("1389.50"))]
    e = {ref: rows[0] for ref, rows in entries_by_ref(st).items()}
    assert list(e) == ["E1", "E2", "E3", "E4", "BANK-REF-9"]
    assert e["E1"].remittance == "Deposit   client A-001"
    assert (e["E2"].credit_debit, e["E2"].signed_amount, e["E2"].value_date) == ("DBIT", Decimal("-120.50"), None)
    # reversal pair: the reversal carries the opposite indicator already and is not flipped again
    assert (e["E3"].reversal, e["E3"].signed_amount) == (False, Decimal("-50.00"))
    assert (e["E4"].reversal, e["E4"].signed_amount) == (True, Decimal("50.00"))
    assert e["E3"].end_to_end_id == e["E4"].end_to_end_id == "FEE-0001"
    assert e["BANK-REF-9"].end_to_end_id is None  # NOTPROVIDED
    assert e["E1"].source_row == "Stmt[CMP-20240301]/Ntry[E1]"
    assert all(x.status == "BOOK" and x.tx_seq == 1 and x.amount == x.entry_amount for x in st.entries)
    opening, closing = (b.signed_amount for b in st.balances)
    assert opening + sum(x.signed_amount for x in st.entries) == closing


def test_two_statements_v02_status_text_and_iban() -> None:
    cap, rsv = parse_camt053(FIXTURES / "two_statements.v02.xml")
    assert (cap.statement_id, cap.custody_account, cap.currency) == ("CAP-20240301", "CAPITAL_POOL", "CNY")
    assert (rsv.statement_id, rsv.custody_account, rsv.currency) == ("RSV-20240301", "CN0012345678901234567890", "CNY")
    assert cap.message_id == rsv.message_id == "MSG-V02-2" and rsv.created_at is None
    (c,) = cap.entries
    assert (c.entry_ref, c.status, c.signed_amount, c.end_to_end_id) == ("#1", "BOOK", Decimal("-200000.00"), "LD-0001")
    (r,) = rsv.entries
    assert (r.entry_ref, r.status, r.statement_id) == ("R1", "PDNG", "RSV-20240301")
    assert rsv.balances[0].amount == 0


def test_dttm_dates_become_shanghai_dates_v13() -> None:
    (st,) = parse_camt053(FIXTURES / "dttm.v13.xml")
    assert [(b.type, b.date, b.signed_amount) for b in st.balances] == [
        ("OPBD", date(2024, 2, 29), Decimal("-100.00")), ("CLBD", date(2024, 3, 1), Decimal("49.00"))]
    n1, n2 = st.entries
    assert n1.booking_date == date(2024, 3, 2)  # 17:30 +01:00 is 00:30 the next day in Asia/Shanghai
    assert n1.value_date == date(2024, 3, 1)
    assert (n2.booking_date, n2.status, n2.value_date) == (date(2024, 3, 1), "PDNG", None)


def test_dttm_without_offset_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "naive.xml"
    p.write_text((FIXTURES / "dttm.v13.xml").read_text().replace("2024-03-01T17:30:00+01:00", "2024-03-01T17:30:00"))
    err = refusal(p)
    assert (err.rule, err.row) == ("time.offset", "Stmt[OPR-20240301]/Ntry[N1]")
    assert "BookgDt" in err.message


@pytest.mark.parametrize("version", ["02", "05", "08", "10", "13", "14"])
def test_any_camt053_version_namespace(tmp_path: Path, version: str) -> None:
    p = tmp_path / "v.xml"
    p.write_text((FIXTURES / "custody_day.v08.xml").read_text().replace("camt.053.001.08", f"camt.053.001.{version}"))
    (st,) = parse_camt053(p)
    assert len(st.entries) == 5


def test_batch_entry_one_row_per_transaction() -> None:
    (st,) = parse_camt053(FIXTURES / "batch.v08.xml")
    rows = st.entries
    assert [(r.entry_ref, r.tx_seq) for r in rows] == [("B1", 1), ("B1", 2), ("B1", 3)]
    assert [r.signed_amount for r in rows] == [Decimal("-100.00"), Decimal("-250.00"), Decimal("50.00")]
    assert all(r.entry_amount == Decimal("300.00") for r in rows)
    assert [r.end_to_end_id for r in rows] == ["WDR-0101", "WDR-0102", None]
    assert [r.remittance for r in rows] == ["first", "second", None]
    assert rows[1].source_row == "Stmt[CMP-BATCH]/Ntry[B1]/TxDtls[2]"


def test_batch_parts_not_adding_up_are_refused(tmp_path: Path) -> None:
    p = tmp_path / "batch.xml"
    p.write_text((FIXTURES / "batch.v08.xml").read_text().replace(">250.00<", ">240.00<"))
    err = refusal(p)
    assert (err.rule, err.row) == ("custody.batch", "Stmt[CMP-BATCH]/Ntry[B1]")
    assert "-300.00" in err.message and "-290.00" in err.message


@pytest.mark.parametrize("bad", ["-5.00", "1e3", "12,50", "NaN", ".5", "+5"])
def test_bad_amount_is_refused_naming_the_row(tmp_path: Path, bad: str) -> None:
    p = tmp_path / "amt.xml"
    p.write_text((FIXTURES / "custody_day.v08.xml").read_text().replace(">120.50<", f">{bad}<"))
    err = refusal(p)
    assert (err.rule, err.row) == ("value.type", "Stmt[CMP-20240301]/Ntry[E2]")


# ------------------------------------------------------------------ refusals of untrusted input
def test_doctype_with_entities_refused_without_expansion() -> None:
    err = refusal(FIXTURES / "billion_laughs.xml")
    assert err.rule == "custody.parse" and "DTD or entity" in err.message


def test_entity_declaration_split_across_read_chunks_is_found(tmp_path: Path) -> None:
    p = tmp_path / "late.xml"
    pad = "<!--" + "x" * ((1 << 20) - 20) + "-->"
    p.write_text(pad + "<!ENTITY a 'b'>" + (FIXTURES / "custody_day.v08.xml").read_text().split("?>", 1)[1])
    err = refusal(p)
    assert err.rule == "custody.parse" and "DTD or entity" in err.message


def test_parser_itself_forbids_dtds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defence in depth: were the byte screen skipped, the parser still refuses the DTD unexpanded."""
    import assets.ingest.readers.camt053 as camt

    monkeypatch.setattr(camt, "_screen", lambda *a: None)
    err = refusal(FIXTURES / "billion_laughs.xml")
    assert err.rule == "custody.parse" and "DTD or entity" in err.message


def test_oversized_refused() -> None:
    err = refusal(FIXTURES / "custody_day.v08.xml", max_bytes=1000, display_name="d/custody/x.xml")
    assert (err.rule, err.file) == ("custody.parse", "d/custody/x.xml") and "oversized" in err.message


def test_malformed_refused_naming_file_and_line() -> None:
    err = refusal(FIXTURES / "malformed.v08.xml", display_name="2024-03-01/custody/malformed.v08.xml")
    assert err.rule == "custody.parse" and err.file == "2024-03-01/custody/malformed.v08.xml"
    assert "malformed XML" in err.message and "line 9" in err.message
    assert "2024-03-01/custody/malformed.v08.xml" in str(err)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])  # with and without a byte-order mark
def test_utf16_refused(tmp_path: Path, encoding: str) -> None:
    p = tmp_path / "u16.xml"
    p.write_bytes((FIXTURES / "custody_day.v08.xml").read_text().replace("UTF-8", "UTF-16").encode(encoding))
    err = refusal(p)
    assert err.rule == "custody.parse" and "not UTF-8" in err.message


def test_invalid_utf8_refused(tmp_path: Path) -> None:
    p = tmp_path / "latin1.xml"
    p.write_bytes((FIXTURES / "custody_day.v08.xml").read_text().replace("Withdrawal", "Retrait Côte").encode("latin-1"))
    err = refusal(p)
    assert err.rule == "custody.parse" and "not UTF-8" in err.message


def test_non_ascii_utf8_is_read_whatever_the_declaration(tmp_path: Path) -> None:
    p = tmp_path / "cn.xml"
    text = (FIXTURES / "custody_day.v08.xml").read_text().replace("Withdrawal", "客户出金")
    p.write_bytes(text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("utf-8"))
    (st,) = parse_camt053(p)
    assert st.entries[1].remittance == "客户出金"


def test_non_camt_root_refused() -> None:
    err = refusal(FIXTURES / "not_camt.xml")
    assert err.file == str(FIXTURES / "not_camt.xml")  # without display_name: the path
    assert err.rule == "custody.parse" and "camt.052" in err.message and "not a camt.053" in err.message


def test_large_file_streams(tmp_path: Path) -> None:
    """Many entries in one statement: read row by row, every entry kept, in order."""
    text = (FIXTURES / "custody_day.v08.xml").read_text()
    head, rest = text.split("<Ntry>", 1)
    ntry = "<Ntry><NtryRef>L{i}</NtryRef><Amt Ccy=\"CNY\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>" \
           "<BookgDt><Dt>2024-03-01</Dt></BookgDt></Ntry>\n"
    p = tmp_path / "big.xml"
    with open(p, "w", encoding="utf-8") as fh:
        fh.write(head)
        fh.writelines(ntry.format(i=i) for i in range(20000))
        fh.write("<Ntry>" + rest)
    (st,) = parse_camt053(p)
    assert len(st.entries) == 20005 and st.entries[19999].entry_ref == "L19999"


# ------------------------------------------------------------------ agreement with check_landing.py
def _checker():
    path = SHARED / "tools" / "check_landing.py"
    if not path.is_file():
        pytest.skip(f"{path} not found (../shared is not beside the repository)")
    mod = sys.modules.get("check_landing")
    if mod is None:  # a stand-alone script, not a package: load it by path (dataclasses need sys.modules)
        spec = importlib.util.spec_from_file_location("check_landing", path)
        mod = sys.modules["check_landing"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    return mod


def checker_view(sts) -> list:
    return [(s.sid, s.account, s.ccy,
             sorted((t, b.day, b.amount, b.ccy) for t, bs in s.balances.items() for b in bs),
             [(e.ref, e.amount, e.ccy, e.booked, e.valued, e.reversal, e.status,
               [(x or None, a) for x, a in e.parts], " ".join(e.remittance.split())) for e in s.entries])
            for s in sts]


def our_view(sts: list[CustodyStatement]) -> list:
    out = []
    for s in sts:
        ents = []
        for ref, rows in entries_by_ref(s).items():
            r = rows[0]
            ents.append((ref, sum(x.signed_amount for x in rows), r.currency, r.booking_date, r.value_date, r.reversal, r.status,
                         [(x.end_to_end_id, x.signed_amount) for x in rows],
                         " ".join(" ".join(x.remittance or "" for x in rows).split())))
        out.append((s.statement_id, s.custody_account, s.currency,
                    sorted((b.type, b.date, b.signed_amount, b.currency) for b in s.balances), ents))
    return out


def _cases() -> list[Path]:
    files = sorted(FIXTURES.glob("*.xml"))
    return files + (sorted(SAMPLES.glob("*.xml")) if SAMPLES.is_dir() else [])


@pytest.mark.parametrize("path", _cases(), ids=lambda p: p.name)
def test_reading_agrees_with_check_landing(path: Path) -> None:
    mod = _checker()
    report = mod.Report()
    theirs = mod.Checker(path.parent, report).parse_camt(path)
    errors = report.fired(mod.ERROR)
    try:
        ours = parse_camt053(path)
    except FeedError as e:
        assert e.rule in errors, f"we refuse with {e.rule}, the checker reports {errors or 'nothing'}"
        return
    assert not errors, f"the checker reports {errors}, we read the file"
    assert our_view(ours) == checker_view(theirs)
