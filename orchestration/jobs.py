"""Jobs: the daily run materialises one business date end to end; the monthly run publishes the month."""
from __future__ import annotations

import dagster as dg

from assets.ingest.assets import ingest_assets
from assets.metrics.assets import dbt_daily_models, dbt_monthly_models
from assets.reports.assets import provider_statements, regulatory_report

# Ingestion → gates (asset checks on the raw assets) → staging/intermediate/daily marts.
daily_job = dg.define_asset_job(
    name="daily_business_date",
    selection=dg.AssetSelection.assets(*ingest_assets, dbt_daily_models),
    description="Ingest, check and compute one business date (partition) end to end. A failed blocking "
                "gate stops everything downstream of it in the run.",
)

# The same day's steps split in two, for catching up on many days: ingest + gates per business date,
# then one dbt build over the whole window (dbt assets have BackfillPolicy.single_run).
ingest_job = dg.define_asset_job(
    name="ingest_business_date",
    selection=dg.AssetSelection.assets(*ingest_assets),
    description="Ingest one business date and run its gates (GX suites, quarantine policy).",
)
metrics_job = dg.define_asset_job(
    name="daily_metrics",
    selection=dg.AssetSelection.assets(dbt_daily_models),
    description="dbt build of the daily models for a business date or a range of them (one dbt invocation).",
)

# Monthly marts, then the regulatory report and the provider statements.
monthly_reports_job = dg.define_asset_job(
    name="monthly_reports",
    selection=dg.AssetSelection.assets(dbt_monthly_models, regulatory_report, provider_statements),
    description="Month-level marts, the regulatory disclosure report and every capital provider's statement.",
)
