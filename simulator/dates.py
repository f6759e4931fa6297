"""Business calendar (weekdays) and Asia/Shanghai timestamps derived from the business date only."""
from __future__ import annotations

from datetime import date, timedelta

MS = 1000
H = 3600 * MS
MORNING_OPEN = 9 * H + 30 * 60 * MS  # 09:30:00
MORNING_CLOSE = 11 * H + 30 * 60 * MS  # 11:30:00
AFTERNOON_OPEN = 13 * H  # 13:00:00
RISK_TIME = 14 * H + 30 * 60 * MS  # 14:30:00 the risk engine's daily cut
LAST_FILL = 14 * H + 59 * 60 * MS + 59 * MS  # 14:59:59.000
MORNING_LEN = MORNING_CLOSE - MORNING_OPEN
# client order flow: 09:30-11:30 and 13:00-14:30 (the half hour after the risk cut is left to liquidations)
CLIENT_SESSION_LEN = MORNING_LEN + (RISK_TIME - AFTERNOON_OPEN)


def business_days(start: date, n: int) -> list[date]:
    """The first n weekdays (Mon-Fri) on or after start."""
    out: list[date] = []
    d = start
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


def next_business_day(d: date) -> date:
    d += timedelta(days=1)
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def is_last_business_day_of_month(d: date) -> bool:
    return next_business_day(d).month != d.month


def month_days(d: date) -> list[date]:
    """Every calendar day of d's month."""
    first = d.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return [first + timedelta(days=i) for i in range((nxt - first).days)]


def session_to_clock(ms):
    """Client-session milliseconds (0 .. CLIENT_SESSION_LEN) -> milliseconds after local midnight.

    Works on ints and numpy arrays alike."""
    return ms + MORNING_OPEN + (ms >= MORNING_LEN) * (AFTERNOON_OPEN - MORNING_CLOSE)


def ts(d: date, ms: int) -> str:
    """ISO-8601 with the Asia/Shanghai offset: 2026-09-01T10:23:45.123+08:00."""
    s, milli = divmod(int(ms), 1000)
    hh, rem = divmod(s, 3600)
    mm, ss = divmod(rem, 60)
    return f"{d.isoformat()}T{hh:02d}:{mm:02d}:{ss:02d}.{milli:03d}+08:00"


def ymd(d: date) -> str:
    return d.strftime("%Y%m%d")
