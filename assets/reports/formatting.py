"""Number and date formatting for the reports: the ONE place a figure becomes text.

Every filter takes ``Decimal``, ``int``, ``float`` or ``None`` (and strings of numbers) and returns a
string; ``None`` (and NaN) becomes ``"n/a"``. Rounding is half-even and happens only here (SPEC §1:
round only when presenting; 2 dp amounts, 4 dp ratios). Floats go through their shortest ``repr``
so that ``0.1`` is formatted as the decimal the warehouse meant, not as its binary neighbour.

The templates use these as Jinja filters (``{{ x | money }}``), the tests use them as functions to
find a mart's value in the PDF text, and ``fmt`` picks the filter from a figure's kind.
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

NA = "n/a"
MINUS = "-"  # ASCII hyphen-minus: survives text extraction and copy-paste unchanged

_Q = {dp: Decimal(1).scaleb(-dp) for dp in range(9)}


def to_decimal(value: Any) -> Decimal | None:
    """Exact Decimal for a number, None for None/NaN/infinite/unparseable."""
    if value is None:
        return None
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return Decimal(repr(value))
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def round_half_even(value: Any, dp: int) -> Decimal | None:
    d = to_decimal(value)
    return None if d is None else d.quantize(_Q[dp], rounding=ROUND_HALF_EVEN)


def _grouped(d: Decimal, dp: int, sep: str = ",") -> str:
    q = d.quantize(_Q[dp], rounding=ROUND_HALF_EVEN)
    if q == 0:
        q = abs(q)  # no "-0.00"
    sign = MINUS if q < 0 else ""
    text = f"{abs(q):,.{dp}f}"
    if sep != ",":
        text = text.replace(",", sep)
    return sign + text


def number(value: Any, dp: int = 2) -> str:
    """A plain number, ``dp`` decimals half-even, thousands separated."""
    d = to_decimal(value)
    return NA if d is None else _grouped(d, dp)


def money(value: Any, currency: str | None = None) -> str:
    """Amount: 2 dp half-even, thousands separators (``1,234,567.89``); optional currency suffix."""
    d = to_decimal(value)
    if d is None:
        return NA
    text = _grouped(d, 2)
    return f"{text} {currency}" if currency else text


def ratio(value: Any) -> str:
    """Ratio: 4 dp half-even (``0.6489``)."""
    d = to_decimal(value)
    return NA if d is None else _grouped(d, 4)


def percent(value: Any) -> str:
    """A ratio shown as a percentage with the precision of a 4-dp ratio (0.648874 → ``64.89%``)."""
    d = to_decimal(value)
    return NA if d is None else _grouped(d * 100, 2) + "%"


def bp(value: Any) -> str:
    """Basis points (the value is already in bp): 2 dp half-even with the unit (``12.35 bp``)."""
    d = to_decimal(value)
    return NA if d is None else _grouped(d, 2) + " bp"


def integer(value: Any) -> str:
    """Count: no decimals, thousands separators (half-even if a fraction slips in)."""
    d = to_decimal(value)
    return NA if d is None else _grouped(d, 0)


def multiple(value: Any) -> str:
    """Leverage multiple λ: 4 dp like any ratio, with a times sign (``2.3456x``)."""
    d = to_decimal(value)
    return NA if d is None else _grouped(d, 4) + "x"


def seconds(value: Any) -> str:
    """Duration in seconds, 1 dp half-even (``154,655.7 s``)."""
    d = to_decimal(value)
    return NA if d is None else _grouped(d, 1) + " s"


def date(value: Any) -> str:
    """ISO date (``2026-09-30``); datetimes keep only their date."""
    if value is None:
        return NA
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text[:10] if text else NA


def datetime(value: Any, tz: str = "UTC") -> str:
    """Timestamp to the second with its zone (``2026-09-30 07:00:00 UTC``); naive values are UTC."""
    if value is None:
        return NA
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            from zoneinfo import ZoneInfo

            value = value.astimezone(ZoneInfo(tz))
        return value.strftime("%Y-%m-%d %H:%M:%S") + f" {tz}"
    return str(value)


def text(value: Any) -> str:
    return NA if value is None or value == "" else str(value)


def boolean(value: Any) -> str:
    if value is None:
        return NA
    return "yes" if value else "no"


# kind → filter; a figure's kind says how it is shown (figures.Figure.kind)
FORMATTERS = {
    "money": money,
    "ratio": ratio,
    "percent": percent,
    "bp": bp,
    "int": integer,
    "multiple": multiple,
    "seconds": seconds,
    "date": date,
    "datetime": datetime,
    "text": text,
    "bool": boolean,
}


def fmt(value: Any, kind: str = "text") -> str:
    """Format ``value`` by kind (see FORMATTERS)."""
    try:
        return FORMATTERS[kind](value)
    except KeyError:
        raise ValueError(f"unknown figure kind {kind!r}") from None


def register(env) -> None:
    """Install the filters in a Jinja environment."""
    env.filters.update({
        "money": money, "ratio": ratio, "percent": percent, "bp": bp, "integer": integer, "multiple": multiple,
        "seconds": seconds, "date": date, "datetime": datetime, "text": text, "boolean": boolean,
        "number": number, "fmt": fmt,
    })
