{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month',
          on_schema_change='append_new_columns', tags=['monthly']) }}
-- M4 per month: margin calls issued (WARNING events in the month), how they stood at the month's
-- end — cured, liquidated, still open (reported apart and left out of the cure rate) — and
-- cure rate = cured / (issued − open); plus the month's peak count of accounts below W and MM.
with months as (
    select month_start, max(business_date) as last_business_date
    from {{ ref('int_calendar__business_days') }}
    group by 1
),

calls as (
    select
        cast({{ dbt.date_trunc('month', 'business_date') }} as date) as month_start,
        cured_on,
        liquidated_on
    from {{ ref('fct_margin_calls') }}
),

status as (
    -- outcome as it stood at the month's end, so a later month's data does not rewrite the month
    select
        c.month_start,
        count(*) as calls_issued,
        sum(case when c.cured_on <= {{ dbt.last_day('c.month_start', 'month') }} then 1 else 0 end) as calls_cured,
        sum(case when c.liquidated_on <= {{ dbt.last_day('c.month_start', 'month') }} then 1 else 0 end) as calls_liquidated
    from calls as c
    group by 1
),

daily as (
    select
        cast({{ dbt.date_trunc('month', 'business_date') }} as date) as month_start,
        max(accounts_below_warning) as peak_accounts_below_warning,
        max(accounts_below_maintenance) as peak_accounts_below_maintenance,
        sum(liquidation_triggers) as liquidation_triggers
    from {{ ref('fct_margin_calls_daily') }}
    group by 1
),

joined as (
    select
        m.month_start,
        m.last_business_date,
        coalesce(s.calls_issued, 0) as calls_issued,
        coalesce(s.calls_cured, 0) as calls_cured,
        coalesce(s.calls_liquidated, 0) as calls_liquidated,
        coalesce(s.calls_issued, 0) - coalesce(s.calls_cured, 0) - coalesce(s.calls_liquidated, 0) as calls_open_at_month_end,
        coalesce(d.peak_accounts_below_warning, 0) as peak_accounts_below_warning,
        coalesce(d.peak_accounts_below_maintenance, 0) as peak_accounts_below_maintenance,
        coalesce(d.liquidation_triggers, 0) as liquidation_triggers
    from months as m
    left join status as s on s.month_start = m.month_start
    left join daily as d on d.month_start = m.month_start
)

select
    cast(month_start as date) as month,
    cast(last_business_date as date) as last_business_date,
    cast(calls_issued as integer) as calls_issued,
    cast(calls_cured as integer) as calls_cured,
    cast(calls_liquidated as integer) as calls_liquidated,
    cast(calls_open_at_month_end as integer) as calls_open_at_month_end,
    cast(calls_issued - calls_open_at_month_end as integer) as calls_resolved,
    cast({{ safe_ratio('calls_cured', 'calls_issued - calls_open_at_month_end') }} as double) as cure_rate,
    cast(peak_accounts_below_warning as integer) as peak_accounts_below_warning,
    cast(peak_accounts_below_maintenance as integer) as peak_accounts_below_maintenance,
    cast(liquidation_triggers as integer) as liquidation_triggers
from joined
where true {{ in_month_window('month_start') }}
