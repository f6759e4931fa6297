-- M14 per business date: the top-1/5/10 beneficial-owner groups' share of ΣL and of the worst
-- scenario's stress loss (each ranked on its own measure), and the top-10 providers' share of
-- provider capital (contributions − redemptions paid − losses allocated, by settlement date).
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='fail') }}

with days as (
    select business_date
    from {{ ref('int_calendar__business_days') }}
    where true
    {{ in_window('business_date') }}
),

worst as (
    select business_date, scenario_id
    from {{ ref('fct_stress_daily') }}
    where is_worst
    {{ in_window('business_date') }}
),

-- the worst scenario's rows carry every group of the day (loans are the same in every scenario)
groups as (
    select g.business_date, g.scenario_id, g.group_id, g.loans, g.stress_loss
    from {{ ref('fct_stress_groups_daily') }} as g
    inner join worst as w on w.business_date = g.business_date and w.scenario_id = g.scenario_id
),

ranked_groups as (
    select
        *,
        row_number() over (partition by business_date order by loans desc, group_id) as loan_rank,
        row_number() over (partition by business_date order by stress_loss desc, group_id) as loss_rank
    from groups
),

group_concentration as (
    select
        business_date,
        max(scenario_id) as worst_scenario_id,
        sum(loans) as total_loans,
        max(case when loan_rank = 1 and loans > 0 then group_id end) as top1_loan_group_id,
        sum(case when loan_rank <= 1 then loans else 0 end) as top1_group_loans,
        sum(case when loan_rank <= 5 then loans else 0 end) as top5_group_loans,
        sum(case when loan_rank <= 10 then loans else 0 end) as top10_group_loans,
        sum(stress_loss) as total_stress_loss,
        max(case when loss_rank = 1 and stress_loss > 0 then group_id end) as top1_loss_group_id,
        sum(case when loss_rank <= 1 then stress_loss else 0 end) as top1_group_stress_loss,
        sum(case when loss_rank <= 5 then stress_loss else 0 end) as top5_group_stress_loss,
        sum(case when loss_rank <= 10 then stress_loss else 0 end) as top10_group_stress_loss
    from ranked_groups
    group by 1
),

provider_capital as (
    select d.business_date, e.provider_id, sum(e.capital_effect) as capital_balance
    from days as d
    inner join {{ ref('stg_capital__events') }} as e on e.settlement_date <= d.business_date
    group by 1, 2
),

ranked_providers as (
    select
        *,
        row_number() over (partition by business_date order by capital_balance desc, provider_id) as capital_rank
    from provider_capital
),

provider_concentration as (
    select
        business_date,
        count(*) as providers,
        sum(capital_balance) as total_provider_capital,
        sum(case when capital_rank <= 10 then capital_balance else 0 end) as top10_provider_capital
    from ranked_providers
    group by 1
),

joined as (
    select
        d.business_date,
        g.worst_scenario_id,
        coalesce(g.total_loans, 0) as total_loans,
        g.top1_loan_group_id,
        coalesce(g.top1_group_loans, 0) as top1_group_loans,
        coalesce(g.top5_group_loans, 0) as top5_group_loans,
        coalesce(g.top10_group_loans, 0) as top10_group_loans,
        coalesce(g.total_stress_loss, 0) as total_stress_loss,
        g.top1_loss_group_id,
        coalesce(g.top1_group_stress_loss, 0) as top1_group_stress_loss,
        coalesce(g.top5_group_stress_loss, 0) as top5_group_stress_loss,
        coalesce(g.top10_group_stress_loss, 0) as top10_group_stress_loss,
        coalesce(p.providers, 0) as providers,
        coalesce(p.total_provider_capital, 0) as total_provider_capital,
        coalesce(p.top10_provider_capital, 0) as top10_provider_capital
    from days as d
    left join group_concentration as g on g.business_date = d.business_date
    left join provider_concentration as p on p.business_date = d.business_date
)

select
    cast(business_date as date) as business_date,
    -- loans
    cast(total_loans as decimal(18, 2)) as total_loans,
    top1_loan_group_id as top1_loan_group_id,
    cast(top1_group_loans as decimal(18, 2)) as top1_group_loans,
    cast(top5_group_loans as decimal(18, 2)) as top5_group_loans,
    cast(top10_group_loans as decimal(18, 2)) as top10_group_loans,
    cast({{ safe_ratio('top1_group_loans', 'total_loans') }} as double) as top1_loan_share,
    cast({{ safe_ratio('top5_group_loans', 'total_loans') }} as double) as top5_loan_share,
    cast({{ safe_ratio('top10_group_loans', 'total_loans') }} as double) as top10_loan_share,
    -- worst scenario's stress loss
    worst_scenario_id as worst_scenario_id,
    cast(total_stress_loss as decimal(18, 2)) as total_stress_loss,
    top1_loss_group_id as top1_loss_group_id,
    cast(top1_group_stress_loss as decimal(18, 2)) as top1_group_stress_loss,
    cast(top5_group_stress_loss as decimal(18, 2)) as top5_group_stress_loss,
    cast(top10_group_stress_loss as decimal(18, 2)) as top10_group_stress_loss,
    cast({{ safe_ratio('top1_group_stress_loss', 'total_stress_loss') }} as double) as top1_stress_loss_share,
    cast({{ safe_ratio('top5_group_stress_loss', 'total_stress_loss') }} as double) as top5_stress_loss_share,
    cast({{ safe_ratio('top10_group_stress_loss', 'total_stress_loss') }} as double) as top10_stress_loss_share,
    -- providers
    cast(providers as integer) as providers,
    cast(total_provider_capital as decimal(18, 2)) as total_provider_capital,
    cast(top10_provider_capital as decimal(18, 2)) as top10_provider_capital,
    cast({{ safe_ratio('top10_provider_capital', 'total_provider_capital') }} as double) as top10_capital_share
from joined
