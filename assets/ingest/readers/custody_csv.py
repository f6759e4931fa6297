"""Reader of the custody CSV export (SPEC §2): ``entries.csv`` + ``balances.csv`` → statements.

The export is the camt.053 statement flattened, so it yields the same ``CustodyStatement`` rows and the
loader can compare the two forms with ``statements_equal``. The files are small: the csv module reads
them as exact strings (no type inference), and the first bad value refuses the pair with its line.
"""
from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

from assets.common.errors import FeedError
from assets.ingest.readers.custody_model import (
    AMOUNT_RE,
    BALANCE_TYPES,
    CCY_RE,
    CREDIT_DEBIT,
    CustodyBalance,
    CustodyEntry,
    CustodyStatement,
    parse_iso_date,
    parse_timestamp,
    shanghai_date,
    statements_equal,
)

__all__ = ["BALANCE_COLUMNS", "ENTRY_COLUMNS", "read_custody_csv", "statements_equal"]  # compare the forms

ENTRY_COLUMNS = ("statement_id", "custody_account", "currency", "entry_ref", "booking_date", "value_date",
                 "amount", "credit_debit", "reversal", "end_to_end_id", "remittance")
BALANCE_COLUMNS = ("statement_id", "custody_account", "currency", "type", "date", "amount", "credit_debit")
_OPTIONAL = {"value_date", "end_to_end_id", "remittance"}


def read_custody_csv(entries_path: Path, balances_path: Path, *,
                     display_dir: str | None = None) -> list[CustodyStatement]:
    """Statements of one CSV export, in order of first appearance (balances first, as in camt.053)."""
    entries_path, balances_path = Path(entries_path), Path(balances_path)

    def shown(p: Path) -> str:
        return f"{display_dir.rstrip('/')}/{p.name}" if display_dir is not None else str(p)

    statements: dict[str, CustodyStatement] = {}
    named_by = shown(entries_path)  # the statement's file is entries.csv; balances.csv is its pair

    def statement(v: _Row) -> CustodyStatement:
        sid, acct = v.text("statement_id"), v.text("custody_account")
        st = statements.get(sid)
        if st is None:
            st = statements[sid] = CustodyStatement(sid, acct, v.currency("currency"), named_by, "csv", [], [])
        elif st.custody_account != acct:  # one statement is one account; a currency mix is left to the gate
            raise FeedError(v.file, "custody.statement",
                            f"statement {sid} names account {acct!r} here and {st.custody_account!r} before", v.line)
        return st

    for v in _rows(balances_path, shown(balances_path), BALANCE_COLUMNS):
        st = statement(v)
        st.balances.append(CustodyBalance(
            st.statement_id, st.custody_account, v.currency("currency"), v.enum("type", BALANCE_TYPES),
            v.date("date"), v.amount("amount"), v.enum("credit_debit", CREDIT_DEBIT), str(v.line)))
    for v in _rows(entries_path, shown(entries_path), ENTRY_COLUMNS):
        st = statement(v)
        amount = v.amount("amount")
        e2e = v.text("end_to_end_id")
        st.entries.append(CustodyEntry(
            statement_id=st.statement_id, custody_account=st.custody_account, currency=v.currency("currency"),
            entry_ref=v.text("entry_ref"), tx_seq=1, booking_date=v.dateish("booking_date"),
            value_date=v.dateish("value_date"), entry_amount=amount, amount=amount,
            credit_debit=v.enum("credit_debit", CREDIT_DEBIT),
            reversal=v.enum("reversal", ("true", "false")) == "true", status="BOOK",
            end_to_end_id=None if not e2e or e2e.upper() == "NOTPROVIDED" else e2e,
            remittance=v.text("remittance") or None, source_row=str(v.line)))
    return list(statements.values())


class _Row:
    """One CSV record with typed accessors that refuse a bad value naming file, line and column."""

    def __init__(self, file: str, line: int, values: dict[str, str]) -> None:
        self.file, self.line, self.values = file, line, values

    def _fail(self, rule: str, col: str, msg: str) -> FeedError:
        return FeedError(self.file, rule, f"column {col}: {msg}", self.line)

    def text(self, col: str) -> str:
        s = self.values[col]
        if s == "" or s.isspace():
            if col not in _OPTIONAL:
                raise self._fail("value.required", col, "empty")
            return ""
        return s

    def enum(self, col: str, allowed: tuple[str, ...]) -> str:
        s = self.text(col)
        if s not in allowed:
            raise self._fail("value.enum", col, f"{s!r} not in {'/'.join(allowed)}")
        return s

    def currency(self, col: str) -> str:
        s = self.text(col)
        if not CCY_RE.fullmatch(s):
            raise self._fail("value.currency", col, f"{s!r} is not 3 upper-case letters")
        return s

    def amount(self, col: str) -> Decimal:
        s = self.text(col)
        if not AMOUNT_RE.fullmatch(s):
            raise self._fail("value.type", col, f"{s!r} is not a plain non-negative decimal")
        return Decimal(s)

    def date(self, col: str) -> date | None:
        s = self.text(col)
        d = parse_iso_date(s) if s else None
        if s and d is None:
            raise self._fail("value.type", col, f"{s!r} is not an ISO date YYYY-MM-DD")
        return d

    def dateish(self, col: str) -> date | None:
        """An ISO date, or a timestamp with offset taken as its Asia/Shanghai date (like DtTm)."""
        s = self.text(col)
        if not s:
            return None
        d = parse_iso_date(s)
        if d is not None:
            return d
        dt, err = parse_timestamp(s)
        if err == "offset":
            raise self._fail("time.offset", col, f"{s!r} has no UTC offset: its Asia/Shanghai date is unknown")
        if dt is None:
            raise self._fail("value.type", col, f"{s!r} is not an ISO date or timestamp")
        return shanghai_date(dt)


def _rows(path: Path, file: str, columns: tuple[str, ...]) -> Iterator[_Row]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rd = csv.reader(fh)
            try:
                yield from _records(rd, file, columns)
            except csv.Error as e:
                raise FeedError(file, "file.read", f"CSV error: {e}", rd.line_num) from None
    except UnicodeDecodeError as e:
        raise FeedError(file, "file.read", f"not UTF-8: {e}") from None
    except OSError as e:
        raise FeedError(file, "file.read", str(e)) from None


def _records(rd, file: str, columns: tuple[str, ...]) -> Iterator[_Row]:
    header = next(rd, None)
    if header is None:
        raise FeedError(file, "file.read", "empty file: no header line", 1)
    header = [h.strip() for h in header]
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise FeedError(file, "columns.duplicate", f"column(s) {', '.join(dup)} appear twice", 1)
    missing = [c for c in columns if c not in header]
    if missing:
        raise FeedError(file, "columns.missing", f"column(s) {', '.join(missing)} missing", 1)
    idx = {c: header.index(c) for c in columns}  # extra columns are ignored
    for rec in rd:
        if len(rec) != len(header):
            raise FeedError(file, "row.malformed",
                            f"{len(rec)} fields, header has {len(header)}" if rec else "blank line", rd.line_num)
        yield _Row(file, rd.line_num, {c: rec[i] for c, i in idx.items()})
