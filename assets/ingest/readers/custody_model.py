"""What both custody readers (camt.053 XML and the CSV export) produce, and how two forms are compared.

Amounts stay positive magnitudes as in the files; the sign comes from ``credit_debit`` alone (SPEC §2:
a reversal already carries the opposite indicator of the entry it reverses, so it is never flipped).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_H8 = timedelta(hours=8)

# Shared lexical rules, the same as ../shared/tools/check_landing.py reads them.
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
TS_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?", re.ASCII)
AMOUNT_RE = re.compile(r"\d+(?:\.\d+)?", re.ASCII)  # plain non-negative decimal: no sign, exponent, NaN
CCY_RE = re.compile(r"[A-Z]{3}", re.ASCII)
CREDIT_DEBIT = ("CRDT", "DBIT")
BALANCE_TYPES = ("OPBD", "CLBD")


def _signed(amount: Decimal, credit_debit: str) -> Decimal:
    return amount if credit_debit == "CRDT" else -amount


@dataclass(frozen=True)
class CustodyBalance:
    statement_id: str
    custody_account: str
    currency: str
    type: str  # 'OPBD' | 'CLBD'
    date: date | None
    amount: Decimal  # positive magnitude
    credit_debit: str  # 'CRDT' | 'DBIT'
    source_row: str

    @property
    def signed_amount(self) -> Decimal:
        return _signed(self.amount, self.credit_debit)


@dataclass(frozen=True)
class CustodyEntry:
    statement_id: str
    custody_account: str
    currency: str
    entry_ref: str
    tx_seq: int  # 1..k over the TxDtls of a batch entry; 1 otherwise
    booking_date: date | None
    value_date: date | None
    entry_amount: Decimal  # Ntry/Amt, positive
    amount: Decimal  # this row's part, positive (== entry_amount unless a batch)
    credit_debit: str
    reversal: bool
    status: str
    end_to_end_id: str | None
    remittance: str | None
    source_row: str

    @property
    def signed_amount(self) -> Decimal:
        return _signed(self.amount, self.credit_debit)


@dataclass
class CustodyStatement:
    statement_id: str
    custody_account: str
    currency: str
    file: str
    form: str  # 'xml' | 'csv'
    balances: list[CustodyBalance] = field(default_factory=list)
    entries: list[CustodyEntry] = field(default_factory=list)
    message_id: str | None = None
    created_at: datetime | None = None  # aware, UTC


def shanghai_date(dt: datetime) -> date:
    """Asia/Shanghai calendar date of an aware datetime (fixed +08:00 since 1992: skip the tz lookup)."""
    if dt.utcoffset() == _H8 and dt.year >= 1992:
        return dt.date()
    return dt.astimezone(SHANGHAI).date()


def parse_iso_date(s: str) -> date | None:
    """A strict YYYY-MM-DD date, or None."""
    if not DATE_RE.fullmatch(s):
        return None
    try:
        return date.fromisoformat(s)
    except ValueError:
        return None


def parse_timestamp(s: str) -> tuple[datetime | None, str | None]:
    """(aware datetime, None), or (None, 'type') when not ISO-8601, (None, 'offset') when naive."""
    if not TS_RE.fullmatch(s):
        return None, "type"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None, "type"
    if dt.tzinfo is None:
        return None, "offset"
    return dt, None


# ------------------------------------------------------------------ the two forms of one statement
def _norm(s: str | None) -> str:
    return " ".join((s or "").split())


def _entry_view(rows: list[CustodyEntry]) -> dict[str, object]:
    """One entry as the other form would state it: a batch's parts are summed back into the entry.

    The signed total of the parts is the entry's signed amount (the XML reader enforces it), which also
    recovers the entry's own indicator when its parts carry mixed ones."""
    first = rows[0]
    return {
        "amount": sum((r.signed_amount for r in rows), Decimal(0)),
        "currency": sorted({r.currency for r in rows}),
        "booking_date": first.booking_date,
        "value_date": first.value_date,
        "reversal": first.reversal,
        "status": first.status,
        "end_to_end_ids": sorted(r.end_to_end_id or "" for r in rows),
        "remittance": _norm(" ".join(r.remittance or "" for r in rows)),
    }


def statements_equal(a: CustodyStatement, b: CustodyStatement) -> list[str]:
    """Differences between two forms of one statement (empty when they agree field by field)."""
    diffs: list[str] = []
    for name in ("statement_id", "custody_account", "currency"):
        x, y = getattr(a, name), getattr(b, name)
        if x != y:
            diffs.append(f"{name}: {x!r} ({a.form}) vs {y!r} ({b.form})")
    for typ in BALANCE_TYPES:
        x = [(v.date, v.signed_amount, v.currency) for v in a.balances if v.type == typ]
        y = [(v.date, v.signed_amount, v.currency) for v in b.balances if v.type == typ]
        if x != y:
            diffs.append(f"{typ}: {_fmt_bal(x)} ({a.form}) vs {_fmt_bal(y)} ({b.form})")
    ga: dict[str, list[CustodyEntry]] = {}
    gb: dict[str, list[CustodyEntry]] = {}
    for e in a.entries:
        ga.setdefault(e.entry_ref, []).append(e)
    for e in b.entries:
        gb.setdefault(e.entry_ref, []).append(e)
    for ref in sorted(ga.keys() - gb.keys()):
        diffs.append(f"entry {ref!r}: only in the {a.form} form")
    for ref in sorted(gb.keys() - ga.keys()):
        diffs.append(f"entry {ref!r}: only in the {b.form} form")
    for ref in sorted(ga.keys() & gb.keys()):
        x, y = _entry_view(ga[ref]), _entry_view(gb[ref])
        for k in x:
            if x[k] != y[k]:
                diffs.append(f"entry {ref!r} {k}: {x[k]!r} ({a.form}) vs {y[k]!r} ({b.form})")
    return diffs


def _fmt_bal(rows: list[tuple[date | None, Decimal, str]]) -> str:
    return "; ".join(f"{d} {m:+} {c}" for d, m, c in rows) or "none"
