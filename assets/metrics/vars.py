"""Partition window -> the dbt window (small and pure, so it has its own unit test).

Dagster passes the window to dbt in the environment (``MARGINFLOW_WINDOW_START``/``_END``, read by
the ``window_bound`` macro at execution only), not as ``--vars``: any change of ``--vars`` makes dbt
re-parse the whole project, ≈ 8 s a run. By hand, ``--vars '{start_date: …, end_date: …}'`` works too.
"""
from __future__ import annotations

WINDOW_ENV = {"start_date": "MARGINFLOW_WINDOW_START", "end_date": "MARGINFLOW_WINDOW_END"}


def dbt_vars(start_key: str | None, end_key: str | None) -> dict[str, str]:
    """Business-date window of a run. Month keys (YYYY-MM) cover the whole month."""
    if not start_key or not end_key:
        return {"start_date": "", "end_date": ""}
    if len(start_key) == 7:  # monthly partition keys
        import calendar

        y, m = map(int, end_key.split("-"))
        return {"start_date": f"{start_key}-01", "end_date": f"{end_key}-{calendar.monthrange(y, m)[1]:02d}"}
    return {"start_date": start_key, "end_date": end_key}


def dbt_window_env(start_key: str | None, end_key: str | None) -> dict[str, str]:
    """The window as the environment of the dbt process (empty values: no window, build everything)."""
    return {WINDOW_ENV[k]: v for k, v in dbt_vars(start_key, end_key).items()}
