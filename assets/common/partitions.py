"""Business-date partitions shared by every layer.

A business date is an Asia/Shanghai trading day; we model trading days as weekdays (a holiday
simply has no landing folder and is never requested by the sensor).
"""
from __future__ import annotations

import dagster as dg

from assets.common.settings import BUSINESS_TZ, partitions_start

# Weekday partitions, keyed YYYY-MM-DD. end_offset=1 makes "today" available (the daily run for
# the day's business date is started after the 15:00 cut-off).
business_days = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 * * 1-5",
    start=partitions_start(),
    fmt="%Y-%m-%d",
    timezone=BUSINESS_TZ,
    end_offset=1,
)

business_months = dg.MonthlyPartitionsDefinition(
    start_date=partitions_start()[:7], timezone=BUSINESS_TZ, end_offset=0, fmt="%Y-%m"
)
