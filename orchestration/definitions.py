"""The Dagster code location: assembles assets, checks, jobs, schedules, sensors and resources.

Cross-cutting policy lives here once: every run executes in one process (DuckDB has one writer;
steps that touch the warehouse are also in the `warehouse_writer` pool across runs).
"""
from __future__ import annotations

import dagster as dg

from assets.common.resources import default_resources
from assets.ingest.assets import ingest_assets
from assets.metrics.assets import dbt_daily_models, dbt_monthly_models, dbt_resource
from assets.quality.checks import feed_checks
from assets.reports.assets import report_assets
from orchestration.jobs import daily_job, ingest_job, metrics_job, monthly_reports_job
from orchestration.schedules import schedules
from orchestration.sensors import sensors

defs = dg.Definitions(
    assets=[*ingest_assets, dbt_daily_models, dbt_monthly_models, *report_assets],
    asset_checks=feed_checks,
    jobs=[daily_job, ingest_job, metrics_job, monthly_reports_job],
    schedules=schedules,
    sensors=sensors,
    resources={**default_resources(), "dbt": dbt_resource()},
    executor=dg.in_process_executor,
)
