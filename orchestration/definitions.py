"""The Dagster code location: assembles assets, checks, jobs, schedules, sensors and resources."""
from __future__ import annotations

import dagster as dg

from assets.common.resources import default_resources
from assets.ingest.assets import ingest_assets
from orchestration.jobs import daily_job

defs = dg.Definitions(
    assets=[*ingest_assets],
    jobs=[daily_job],
    resources=default_resources(),
)
