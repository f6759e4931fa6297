{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month',
          on_schema_change='append_new_columns', tags=['monthly']) }}
-- M13 per provider and month: the capital-account roll-forward (opening + contributions −
-- redemptions paid − losses allocated = closing, by settlement date), the month's income from the
-- waterfall (exact and as distributed) with the performance-fee part of it, losses split into
-- defaults' write-offs and the waterfall's shortfall, and the annualised net yield. A month whose
-- waterfall has not run yet (incomplete) shows no income.
with provider_days as (
    select * from {{ ref('int_capital__provider_days') }}
),

months as (
    select month_start, min(calendar_day) as first_day, max(calendar_day) as last_day, count(*) as calendar_days, max(month_end_business_date) as month_end_business_date
    from {{ ref('int_capital__calendar_days') }}
    group by 1
),

roll as (
    select
        d.provider_id,
        d.month_start,
        sum(d.contributions) as contributions,
        sum(d.redemptions_paid) as redemptions_paid,
        sum(d.losses_allocated) as losses_allocated,
        sum(d.default_losses) as losses_default,
        sum(d.distributions) as distributions_booked,
        sum(d.capital_balance) as capital_days,
        -- opening = the balance brought into the month's first day (before its own flows)
        max(case when d.calendar_day = m.first_day
                 then d.capital_balance - d.contributions + d.redemptions_paid + d.losses_allocated end) as opening_capital,
        max(case when d.calendar_day = m.last_day then d.capital_balance end) as closing_capital,
        max(case when d.calendar_day = m.last_day then d.tranche end) as tranche,
        max(case when d.calendar_day = m.last_day then d.commitment end) as commitment
    from provider_days as d
    inner join months as m on m.month_start = d.month_start
    group by 1, 2
),

requests as (
    select
        provider_id,
        cast({{ dbt.date_trunc('month', 'event_date') }} as date) as month_start,
        sum(amount) as redemptions_requested
    from {{ ref('stg_capital__events') }}
    where event_type = 'REDEMPTION_REQUEST'
    group by 1, 2
),

waterfall as (
    select * from {{ ref('int_capital__waterfall_providers') }}
),

joined as (
    select
        r.month_start,
        r.provider_id,
        r.tranche,
        r.commitment,
        m.month_end_business_date is not null as is_month_complete,
        m.calendar_days,
        coalesce(r.opening_capital, 0) as opening_capital,
        r.contributions,
        coalesce(q.redemptions_requested, 0) as redemptions_requested,
        r.redemptions_paid,
        r.losses_allocated,
        r.losses_default,
        coalesce(w.shortfall_allocated, 0) as losses_waterfall,
        coalesce(r.closing_capital, 0) as closing_capital,
        r.capital_days,
        coalesce(w.income_allocated, 0) as income_allocated,
        coalesce(w.income_distributed, 0) as income_distributed,
        r.distributions_booked,
        coalesce(w.performance_fee_share, 0) as performance_fee_share
    from roll as r
    inner join months as m on m.month_start = r.month_start
    left join requests as q on q.provider_id = r.provider_id and q.month_start = r.month_start
    left join waterfall as w on w.provider_id = r.provider_id and w.month_start = r.month_start
)

select
    cast(month_start as date) as month,
    cast(provider_id as {{ dbt.type_string() }}) as provider_id,
    cast(tranche as {{ dbt.type_string() }}) as tranche,
    cast(commitment as decimal(18, 2)) as commitment,
    is_month_complete,
    cast(calendar_days as integer) as calendar_days,
    cast(opening_capital as decimal(18, 2)) as opening_capital,
    cast(contributions as decimal(18, 2)) as contributions,
    cast(redemptions_requested as decimal(18, 2)) as redemptions_requested,
    cast(redemptions_paid as decimal(18, 2)) as redemptions_paid,
    cast(losses_allocated as decimal(18, 2)) as losses_allocated,
    cast(losses_default as decimal(18, 2)) as losses_default,
    cast(losses_waterfall as decimal(18, 2)) as losses_waterfall,
    cast(closing_capital as decimal(18, 2)) as closing_capital,
    cast(capital_days as decimal(38, 2)) as capital_days,
    cast({{ div_half_even('capital_days', 'calendar_days', 6, 2) }} as decimal(38, 6)) as average_capital,
    cast(income_allocated as decimal(38, 6)) as income_allocated,
    cast(income_distributed as decimal(18, 2)) as income_distributed,
    cast(distributions_booked as decimal(18, 2)) as distributions_booked,
    cast(performance_fee_share as decimal(38, 6)) as performance_fee_share,
    cast(income_distributed - losses_allocated as decimal(18, 2)) as net_income,
    -- (income − losses) / average capital × 365 / calendar days = (income − losses) × 365 / capital·days
    cast({{ safe_ratio('(income_distributed - losses_allocated) * 365', 'capital_days') }} as double) as net_yield_annualised
from joined
where true {{ in_month_window('month_start') }}
