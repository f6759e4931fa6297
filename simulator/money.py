"""Exact money arithmetic: integer cents (money), integer micro-CNY (DECIMAL(38,6) figures), half-even.

Money never passes through a binary float: amounts are Python ints or numpy int64, rates are integer
fractions (``num / den``), and every rounding is an explicit integer half-even division.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

MICRO_PER_CENT = 10_000  # 1 cent = 10,000 micro-CNY (6 dp)


def hdiv(a: int, b: int) -> int:
    """round(a / b) half-even for Python ints, b > 0."""
    q, r = divmod(a, b)  # floor division: 0 <= r < b
    r2 = 2 * r
    if r2 > b or (r2 == b and q & 1):
        q += 1
    return q


def hdiv_np(a: np.ndarray, b: int | np.ndarray) -> np.ndarray:
    """Element-wise round(a / b) half-even on int64 arrays (b > 0)."""
    a = np.asarray(a, dtype=np.int64)
    q = np.floor_divide(a, b)
    r2 = 2 * (a - q * b)
    return q + ((r2 > b) | ((r2 == b) & (q % 2 == 1)))


def round_fraction(x: Fraction) -> int:
    """Half-even rounding of an exact rational to an int (Fraction.__round__ is half-even)."""
    return round(x)


def fmt_cents(c: int) -> str:
    """123456 -> '1234.56', -5 -> '-0.05'."""
    s = "-" if c < 0 else ""
    c = abs(c)
    return f"{s}{c // 100}.{c % 100:02d}"


def fmt_scaled(v: int, dp: int) -> str:
    """An int in units of 10**-dp as a plain decimal string with dp decimals."""
    s = "-" if v < 0 else ""
    v = abs(v)
    p = 10 ** dp
    return f"{s}{v // p}.{v % p:0{dp}d}"


def fmt_rate4(r4: int) -> str:
    """A rate held in units of 1e-4 (bp/100): 725 -> '0.0725'."""
    return fmt_scaled(r4, 4)


def micro_to_cents(m: int) -> int:
    """A DECIMAL(38,6) amount rounded half-even to cents."""
    return hdiv(m, MICRO_PER_CENT)


def parse_cents(s: str) -> int:
    """'1234.5' -> 123450 (exact; used by tests and scenarios)."""
    neg = s.startswith("-")
    s = s.lstrip("-")
    whole, _, frac = s.partition(".")
    v = int(whole) * 100 + int((frac + "00")[:2])
    return -v if neg else v
