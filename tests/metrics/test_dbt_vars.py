"""Partition windows become the dbt window the incremental models and gates filter on."""
from assets.metrics.vars import dbt_vars, dbt_window_env


def test_daily_window():
    assert dbt_vars("2026-09-01", "2026-09-04") == {"start_date": "2026-09-01", "end_date": "2026-09-04"}


def test_monthly_window_covers_whole_months():
    assert dbt_vars("2026-09", "2026-09") == {"start_date": "2026-09-01", "end_date": "2026-09-30"}
    assert dbt_vars("2024-01", "2024-02") == {"start_date": "2024-01-01", "end_date": "2024-02-29"}


def test_unpartitioned_run_builds_everything():
    assert dbt_vars(None, None) == {"start_date": "", "end_date": ""}
    assert dbt_window_env(None, None) == {"MARGINFLOW_WINDOW_START": "", "MARGINFLOW_WINDOW_END": ""}


def test_window_goes_to_the_environment():
    assert dbt_window_env("2026-09", "2026-10") == {"MARGINFLOW_WINDOW_START": "2026-09-01",
                                                    "MARGINFLOW_WINDOW_END": "2026-10-31"}
