"""Partition window -> dbt --vars (small and pure, so it has its own unit test)."""
from __future__ import annotations

import json


def dbt_vars(start_key: str | None, end_key: str | None) -> dict[str, str]:
    """Business-date window of a run. Month keys (YYYY-MM) cover the whole month."""
    if not start_key or not end_key:
        return {"start_date": "", "end_date": ""}
    if len(start_key) == 7:  # monthly partition keys
        import calendar

        y, m = map(int, end_key.split("-"))
        return {"start_date": f"{start_key}-01", "end_date": f"{end_key}-{calendar.monthrange(y, m)[1]:02d}"}
    return {"start_date": start_key, "end_date": end_key}


def dbt_vars_arg(start_key: str | None, end_key: str | None) -> list[str]:
    return ["--vars", json.dumps(dbt_vars(start_key, end_key), sort_keys=True)]
