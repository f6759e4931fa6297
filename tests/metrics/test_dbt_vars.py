"""Partition windows become the dbt vars the incremental models filter on."""
import json

from assets.metrics.vars import dbt_vars, dbt_vars_arg


def test_daily_window():
    assert dbt_vars("2026-09-01", "2026-09-04") == {"start_date": "2026-09-01", "end_date": "2026-09-04"}


def test_monthly_window_covers_whole_months():
    assert dbt_vars("2026-09", "2026-09") == {"start_date": "2026-09-01", "end_date": "2026-09-30"}
    assert dbt_vars("2024-01", "2024-02") == {"start_date": "2024-01-01", "end_date": "2024-02-29"}


def test_unpartitioned_run_builds_everything():
    assert dbt_vars(None, None) == {"start_date": "", "end_date": ""}
    assert json.loads(dbt_vars_arg(None, None)[1]) == {"end_date": "", "start_date": ""}
