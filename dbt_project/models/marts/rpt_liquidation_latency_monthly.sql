-- M6 by the month of the trigger: latency to the first and to the last LIQUIDATION fill (mean,
-- continuous P50/P95/P99, max), SLA share, for all liquidations and split normal / limit-down.
-- Latency statistics and the SLA share cover completed liquidations with fills ("measured"); those
-- still running at the run's cut-off are counted apart (their last fill is not known yet).
-- Means and percentiles are published to the millisecond, the timestamps' resolution: the
-- interpolation leaves binary-float residue (2399.999999999998 for 2400) that means nothing.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month',
          on_schema_change='fail', tags=['monthly']) }}

with liquidations as (
    select
        trigger_month as month,
        case when is_limit_down then 'limit_down' else 'normal' end as segment,
        is_complete and fills > 0 as is_measured,
        latency_first_fill_seconds,
        latency_last_fill_seconds,
        within_sla,
        sla_seconds
    from {{ ref('fct_liquidations') }}
    where true
    {{ in_month_window('trigger_month') }}
),

-- each liquidation once in `all` and once in its own segment
segmented as (
    select 'all' as population, l.* from liquidations as l
    union all
    select segment as population, l.* from liquidations as l
),

stats as (
    select
        month,
        population,
        count(*) as liquidations,
        sum(case when is_measured then 1 else 0 end) as measured,
        sum(case when within_sla then 1 else 0 end) as within_sla,
        max(sla_seconds) as sla_seconds,
        avg(case when is_measured then latency_first_fill_seconds end) as first_fill_mean_seconds,
        {{ percentile_cont('case when is_measured then latency_first_fill_seconds end', 0.5) }} as first_fill_p50_seconds,
        {{ percentile_cont('case when is_measured then latency_first_fill_seconds end', 0.95) }} as first_fill_p95_seconds,
        {{ percentile_cont('case when is_measured then latency_first_fill_seconds end', 0.99) }} as first_fill_p99_seconds,
        max(case when is_measured then latency_first_fill_seconds end) as first_fill_max_seconds,
        avg(case when is_measured then latency_last_fill_seconds end) as last_fill_mean_seconds,
        {{ percentile_cont('case when is_measured then latency_last_fill_seconds end', 0.5) }} as last_fill_p50_seconds,
        {{ percentile_cont('case when is_measured then latency_last_fill_seconds end', 0.95) }} as last_fill_p95_seconds,
        {{ percentile_cont('case when is_measured then latency_last_fill_seconds end', 0.99) }} as last_fill_p99_seconds,
        max(case when is_measured then latency_last_fill_seconds end) as last_fill_max_seconds
    from segmented
    group by 1, 2
),

-- every loaded month gets its three rows, zero counts included
months as (
    select distinct month_start as month
    from {{ ref('int_calendar__business_days') }}
    where true
    {{ in_month_window('month_start') }}
),

populations as (
    select 'all' as population union all select 'normal' union all select 'limit_down'
),

sla as (
    select {{ risk_param('liquidation_sla_seconds') }} as sla_seconds
)

select
    cast(m.month as date) as month,
    p.population as population,
    cast(coalesce(s.liquidations, 0) as integer) as liquidations,
    cast(coalesce(s.measured, 0) as integer) as measured_liquidations,
    cast(coalesce(s.liquidations, 0) - coalesce(s.measured, 0) as integer) as unmeasured_liquidations,
    cast(coalesce(s.sla_seconds, sla.sla_seconds) as integer) as sla_seconds,
    cast(coalesce(s.within_sla, 0) as integer) as within_sla,
    cast({{ safe_ratio('s.within_sla', 's.measured') }} as double) as sla_share,
    cast(round(s.first_fill_mean_seconds, 3) as double) as first_fill_mean_seconds,
    cast(round(s.first_fill_p50_seconds, 3) as double) as first_fill_p50_seconds,
    cast(round(s.first_fill_p95_seconds, 3) as double) as first_fill_p95_seconds,
    cast(round(s.first_fill_p99_seconds, 3) as double) as first_fill_p99_seconds,
    cast(s.first_fill_max_seconds as double) as first_fill_max_seconds,
    cast(round(s.last_fill_mean_seconds, 3) as double) as last_fill_mean_seconds,
    cast(round(s.last_fill_p50_seconds, 3) as double) as last_fill_p50_seconds,
    cast(round(s.last_fill_p95_seconds, 3) as double) as last_fill_p95_seconds,
    cast(round(s.last_fill_p99_seconds, 3) as double) as last_fill_p99_seconds,
    cast(s.last_fill_max_seconds as double) as last_fill_max_seconds
from months as m
cross join populations as p
cross join sla
left join stats as s on s.month = m.month and s.population = p.population
