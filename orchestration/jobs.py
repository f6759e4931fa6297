"""Jobs: the daily run materialises one business date end to end."""
from __future__ import annotations

import dagster as dg

from assets.common.partitions import business_days

# Everything partitioned by business date: ingestion, gates, metrics.
daily_job = dg.define_asset_job(
    name="daily_business_date",
    selection=dg.AssetSelection.groups("ingest"),
    partitions_def=business_days,
    description="Ingest, check and compute one business date (partition) end to end.",
    # Warehouse writers never run at once; run steps in one process in dependency order.
    executor_def=dg.in_process_executor,
)
