"""Instruments and end-of-day prices: boards with daily price limits, liquidity tiers, regimes.

Prices are integer cents on the 0.01 tick. A day's limits are the previous close times (1 ± limit),
rounded half-up to the tick (the exchanges' convention); LIMIT_DOWN means close == lower limit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import BOARD_LIMIT_PCT, BOARDS, TIERS

NONE, LIMIT_UP, LIMIT_DOWN = 0, 1, 2
LIMIT_STATUS = ("NONE", "LIMIT_UP", "LIMIT_DOWN")
CALM, SPIKE, CRASH, RECOVERY = "calm", "spike", "crash", "recovery"

_SYL = ("Hua", "Jin", "Zhong", "Xin", "Tian", "Hai", "Long", "Guo", "Dong", "Nan", "Bei", "Xi", "Heng",
        "Kang", "Rui", "Sheng", "Tai", "Yuan", "Feng", "Hong", "Ming", "Bao", "Da", "Ke")
_IND = ("Steel", "Pharma", "Bank", "Energy", "Tech", "Auto", "Foods", "Chemical", "Mining", "Power",
        "Logistics", "Semiconductor", "Textile", "Cement", "Media", "Software", "Securities", "Battery")


@dataclass
class Universe:
    symbols: list[str]
    names: list[str]
    board: np.ndarray  # int8 index into BOARDS
    tier: np.ndarray  # int8 index into TIERS (0 = A most liquid)
    base_volume: np.ndarray  # int64 typical daily shares traded on the exchange

    @property
    def n(self) -> int:
        return len(self.symbols)

    @property
    def limit_pct(self) -> np.ndarray:
        return np.asarray(BOARD_LIMIT_PCT, dtype=np.int64)[self.board]

    def rows(self) -> dict[str, list]:
        return {"symbol": self.symbols, "name": self.names,
                "board": [BOARDS[b] for b in self.board], "liquidity_tier": [TIERS[t] for t in self.tier],
                "currency": ["CNY"] * self.n}


@dataclass
class MarketDay:
    prev_close: np.ndarray
    close: np.ndarray
    high: np.ndarray
    low: np.ndarray
    status: np.ndarray  # int8 NONE / LIMIT_UP / LIMIT_DOWN
    lower: np.ndarray
    upper: np.ndarray
    regime: str = CALM

    @property
    def tradeable(self) -> np.ndarray:
        """Instruments clients trade that day (not locked at a limit)."""
        return self.status == NONE


def limits(prev_close: np.ndarray, pct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower/upper limit prices in cents, half-up to the tick."""
    lo = (prev_close * (100 - pct) * 2 + 100) // 200
    hi = (prev_close * (100 + pct) * 2 + 100) // 200
    return np.maximum(lo, 1), hi


def make_day(prev_close, close, high, low, pct, regime=CALM) -> MarketDay:
    """A MarketDay from given prices; checks that everything sits inside the limits."""
    prev_close, close, high, low = (np.asarray(x, dtype=np.int64) for x in (prev_close, close, high, low))
    lo, hi = limits(prev_close, np.asarray(pct, dtype=np.int64))
    if not ((lo <= low) & (low <= close) & (close <= high) & (high <= hi)).all():
        raise ValueError("prices must satisfy lower limit <= low <= close <= high <= upper limit")
    status = np.where(close == lo, LIMIT_DOWN, np.where(close == hi, LIMIT_UP, NONE)).astype(np.int8)
    return MarketDay(prev_close, close, high, low, status, lo, hi, regime)


def make_universe(n: int, rng: np.random.Generator) -> Universe:
    board = rng.choice(3, size=n, p=[0.6, 0.3, 0.1]).astype(np.int8)
    tier = np.where(board == 2, rng.choice(3, size=n, p=[0.0, 0.3, 0.7]),
                    rng.choice(3, size=n, p=[0.4, 0.35, 0.25])).astype(np.int8)
    tier[:3] = (0, 1, 2)  # every tier present even in tiny universes
    symbols, names = [], []
    counters = {"SH": 600000, "SZ": 1, "GEM": 300001, "STAR": 688001}
    for i in range(n):
        if board[i] == 1:
            venue = "GEM" if rng.random() < 0.6 else "STAR"
        else:
            venue = "SH" if rng.random() < 0.55 else "SZ"
        code = counters[venue]
        counters[venue] += 1 + int(rng.integers(0, 3))
        symbols.append(f"{code:06d}.{'SH' if venue in ('SH', 'STAR') else 'SZ'}")
        nm = f"{_SYL[rng.integers(len(_SYL))]}{_SYL[rng.integers(len(_SYL))].lower()} {_IND[rng.integers(len(_IND))]}"
        names.append(("ST " if board[i] == 2 else "") + nm)
    base = np.array([20_000_000, 5_000_000, 800_000], dtype=np.float64)[tier]
    base_volume = (base * rng.lognormal(0.0, 0.5, n)).astype(np.int64) // 100 * 100
    return Universe(symbols, names, board, tier, base_volume)


def regimes(days: int) -> list[str]:
    """Calm ~45 %, volatility spike ~20 %, crash ~15 % (2-3 days), recovery: scaled to the run."""
    if days == 1:
        return [CALM]
    if days < 4:
        return [CALM] * (days - 1) + [SPIKE]
    crash = 2 if days < 16 else 3
    calm = max(1, round(days * 0.45))
    spike = max(1, round(days * 0.20))
    while calm + spike + crash > days:
        if calm > 1:
            calm -= 1
        elif spike > 1:
            spike -= 1
        else:
            crash -= 1
    return [CALM] * calm + [SPIKE] * spike + [CRASH] * crash + [RECOVERY] * (days - calm - spike - crash)


def random_path(u: Universe, days: int, rng: np.random.Generator) -> list[MarketDay]:
    """Random walk with regimes; the crash locks most instruments limit-down (tiers B/C worst)."""
    n = u.n
    pct = u.limit_pct
    prev = (np.exp(rng.normal(np.log(15.0), 0.7, n)).clip(3.0, 250.0) * 100).astype(np.int64)
    sig_tier = np.array([0.012, 0.016, 0.022])[u.tier] * np.array([1.0, 1.35, 1.2])[u.board]
    ld_first = np.array([0.60, 0.80, 0.90])[u.tier]  # first crash day
    ld_again = np.array([0.70, 0.80, 0.85])[u.tier]  # locked again the next crash day
    was_down = np.zeros(n, bool)
    out: list[MarketDay] = []
    for reg in regimes(days):
        lo, hi = limits(prev, pct)
        z_m, z_i = rng.normal(), rng.normal(size=n)
        if reg == CALM:
            mu, sig = 0.0008, sig_tier
        elif reg == SPIKE:
            mu, sig = -0.006, sig_tier * 2.2
        elif reg == RECOVERY:
            mu, sig = 0.008, sig_tier * 1.8
        else:
            mu, sig = -0.03, sig_tier
        r = mu + sig * (0.6 * z_m + 0.8 * z_i)
        close = np.rint(prev * np.exp(r)).astype(np.int64)
        locked = np.zeros(n, dtype=bool)
        if reg == CRASH:
            first_crash_day = not out or out[-1].regime != CRASH
            p_down = ld_first if first_crash_day else np.where(was_down, ld_again, 0.1)
            down = rng.random(n) < p_down
            close = np.where(down, lo, close)
            locked = down & (rng.random(n) < 0.75)  # most open and stay at the limit all day
        close = close.clip(lo, hi)
        opn = np.rint(prev * np.exp(rng.normal(0, 0.4, n) * sig + 0.5 * (r - mu))).astype(np.int64).clip(lo, hi)
        wick = np.abs(rng.normal(0, 0.5, (2, n))) * sig
        high = np.rint(np.maximum(opn, close) * (1 + wick[0])).astype(np.int64)
        low = np.rint(np.minimum(opn, close) * (1 - wick[1])).astype(np.int64)
        high = np.maximum(high, close).clip(lo, hi)
        low = np.minimum(low, close).clip(lo, hi)
        high = np.where(locked, close, high)
        low = np.where(locked, close, low)
        was_down = close == lo
        out.append(make_day(prev, close, high, low, pct, reg))
        prev = close
    return out


def intraday_price(mkt: MarketDay, sym: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A tick-uniform price in [low, high] of each symbol's day."""
    lo, hi = mkt.low[sym], mkt.high[sym]
    return lo + (rng.random(len(sym)) * (hi - lo + 1)).astype(np.int64).clip(0, hi - lo)
