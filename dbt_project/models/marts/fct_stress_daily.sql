-- M8 per business date × scenario: Cover-1 = the largest group shortfall, Cover-2 = the two largest
-- summed, aggregate = Σ_g shortfall_g (fct_stress_groups_daily), and is_worst for the scenario with
-- the largest Cover-2 that day (then the largest aggregate, then scenario_id — exactly one per day).
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='fail') }}

with groups as (
    select *
    from {{ ref('fct_stress_groups_daily') }}
    where true
    {{ in_window('business_date') }}
),

per_scenario as (
    select
        business_date,
        scenario_id,
        count(*) as groups,
        sum(case when shortfall > 0 then 1 else 0 end) as groups_in_shortfall,
        sum(loans) as loans,
        sum(long_market_value) as long_market_value,
        sum(equity) as equity,
        sum(stress_loss) as stress_loss,
        max(case when shortfall_rank = 1 then shortfall end) as cover_1,
        sum(case when shortfall_rank <= 2 then shortfall else 0 end) as cover_2,
        sum(shortfall) as aggregate_shortfall,
        max(case when shortfall_rank = 1 and shortfall > 0 then group_id end) as cover_1_group_id,
        max(case when shortfall_rank = 2 and shortfall > 0 then group_id end) as cover_2_second_group_id
    from groups
    group by 1, 2
),

-- every business date × scenario, also a day without any group (no loans, no positions)
days as (
    select business_date
    from {{ ref('int_calendar__business_days') }}
    where true
    {{ in_window('business_date') }}
),

grid as (
    select d.business_date, s.scenario_id, s.scenario_type, s.description
    from days as d
    cross join {{ ref('stress_scenarios') }} as s
),

filled as (
    select
        g.business_date,
        g.scenario_id,
        g.scenario_type,
        g.description,
        coalesce(p.groups, 0) as groups,
        coalesce(p.groups_in_shortfall, 0) as groups_in_shortfall,
        coalesce(p.loans, 0) as loans,
        coalesce(p.long_market_value, 0) as long_market_value,
        coalesce(p.equity, 0) as equity,
        coalesce(p.stress_loss, 0) as stress_loss,
        coalesce(p.cover_1, 0) as cover_1,
        coalesce(p.cover_2, 0) as cover_2,
        coalesce(p.aggregate_shortfall, 0) as aggregate_shortfall,
        p.cover_1_group_id,
        p.cover_2_second_group_id
    from grid as g
    left join per_scenario as p on p.business_date = g.business_date and p.scenario_id = g.scenario_id
)

select
    cast(business_date as date) as business_date,
    scenario_id as scenario_id,
    scenario_type as scenario_type,
    description as scenario_description,
    cast(groups as integer) as groups,
    cast(groups_in_shortfall as integer) as groups_in_shortfall,
    cast(loans as decimal(18, 2)) as loans,
    cast(long_market_value as decimal(18, 2)) as long_market_value,
    cast(equity as decimal(18, 2)) as equity,
    cast(stress_loss as decimal(18, 2)) as stress_loss,
    cast(cover_1 as decimal(18, 2)) as cover_1,
    cover_1_group_id as cover_1_group_id,
    cast(cover_2 as decimal(18, 2)) as cover_2,
    cover_2_second_group_id as cover_2_second_group_id,
    cast(aggregate_shortfall as decimal(18, 2)) as aggregate_shortfall,
    cast(row_number() over (
        partition by business_date order by cover_2 desc, aggregate_shortfall desc, scenario_id
    ) = 1 as boolean) as is_worst
from filled
