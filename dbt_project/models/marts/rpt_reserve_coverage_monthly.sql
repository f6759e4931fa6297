-- M9 per calendar month: business days, days the reserve covered less than the worst Cover-2
-- (coverage < 1; n/a days are not counted), the largest gap Cover-2 − reserve and its date, the lowest
-- coverage, and the month's last business day's figures.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month',
          on_schema_change='fail', tags=['monthly']) }}

with daily as (
    select
        cast({{ dbt.date_trunc('month', 'business_date') }} as date) as month,
        *
    from {{ ref('fct_reserve_coverage_daily') }}
),

in_scope as (
    select * from daily
    where true
    {{ in_month_window('month') }}
),

ranked as (
    select
        *,
        row_number() over (partition by month order by coalesce(coverage_gap, 0) desc, business_date) as gap_rank,
        row_number() over (partition by month order by business_date desc) as last_rank
    from in_scope
),

summary as (
    select
        month,
        count(*) as business_days,
        sum(case when is_coverage_na then 0 else 1 end) as days_with_shortfall,
        sum(case when is_below_one then 1 else 0 end) as days_below_one,
        min(reserve_to_cover_2) as min_reserve_to_cover_2,
        max(case when gap_rank = 1 then coverage_gap end) as largest_gap,
        max(case when gap_rank = 1 and coverage_gap > 0 then business_date end) as largest_gap_date,
        max(case when last_rank = 1 then business_date end) as last_business_date,
        max(case when last_rank = 1 then reserve_balance end) as closing_reserve_balance,
        max(case when last_rank = 1 then worst_cover_2 end) as closing_worst_cover_2
    from ranked
    group by 1
)

select
    cast(month as date) as month,
    cast(business_days as integer) as business_days,
    cast(days_with_shortfall as integer) as days_with_shortfall,
    cast(days_below_one as integer) as days_below_one,
    cast(min_reserve_to_cover_2 as double) as min_reserve_to_cover_2,
    cast(largest_gap as decimal(18, 2)) as largest_gap,
    cast(largest_gap_date as date) as largest_gap_date,
    cast(last_business_date as date) as last_business_date,
    cast(closing_reserve_balance as decimal(18, 2)) as closing_reserve_balance,
    cast(closing_worst_cover_2 as decimal(18, 2)) as closing_worst_cover_2,
    cast({{ safe_ratio('closing_reserve_balance', 'closing_worst_cover_2') }} as double) as closing_reserve_to_cover_2
from summary
