"""Schedules: the daily run after the 15:00 Asia/Shanghai cut-off, the monthly reports on the first business day."""
from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from assets.common.settings import BUSINESS_TZ
from orchestration.jobs import daily_job, monthly_reports_job


def previous_business_day(day: date) -> date:
    d = day - timedelta(days=1)
    while d.weekday() >= 5:
        d -= timedelta(days=1)
    return d


def is_first_business_day_of_month(day: date) -> bool:
    return day.weekday() < 5 and all(date(day.year, day.month, k).weekday() >= 5 for k in range(1, day.day))


def previous_month_key(day: date) -> str:
    last = day.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


@dg.schedule(job=daily_job, cron_schedule="30 15 * * 1-5", execution_timezone=BUSINESS_TZ,
             description="Weekdays 15:30 Asia/Shanghai (after the 15:00 cut-off): the previous business "
                         "day, whose custody statements have arrived by now.")
def daily_after_cutoff(context: dg.ScheduleEvaluationContext):
    # scheduled_execution_time is in the schedule's execution_timezone (Asia/Shanghai)
    key = previous_business_day(context.scheduled_execution_time.date()).isoformat()
    return dg.RunRequest(run_key=f"daily-{key}", partition_key=key, tags={"trigger": "schedule"})


@dg.schedule(job=monthly_reports_job, cron_schedule="0 18 * * 1-5", execution_timezone=BUSINESS_TZ,
             description="Regulatory report and provider statements for the previous month, on the first "
                         "business day of each month (18:00 Asia/Shanghai, after that day's run).")
def monthly_reports(context: dg.ScheduleEvaluationContext):
    today = context.scheduled_execution_time.date()
    if not is_first_business_day_of_month(today):
        return dg.SkipReason(f"{today} is not the first business day of its month")
    key = previous_month_key(today)
    return dg.RunRequest(run_key=f"monthly-{key}", partition_key=key, tags={"trigger": "schedule"})


schedules = [daily_after_cutoff, monthly_reports]
