{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='append_new_columns') }}
-- M2 percentiles of λ = G/E at each close over the accounts with L_i > 0 and E_i > 0 (continuous,
-- linear interpolation), by kyc tier and for ALL. NULL percentiles when no account qualifies.
with accounts as (
    select *
    from {{ ref('int_accounts__daily') }}
    where true {{ in_window('business_date') }}
),

tiers as (
    select distinct business_date, kyc_tier from accounts where kyc_tier is not null
    union
    select distinct business_date, 'ALL' from accounts
),

population as (
    select business_date, kyc_tier, equity > 0 as has_positive_equity, leverage
    from accounts
    where has_loan
),

stats as (
    select
        business_date,
        kyc_tier,
        count(*) as population_accounts,
        sum(case when has_positive_equity then 1 else 0 end) as positive_equity_accounts,
        {{ percentile_cont('case when has_positive_equity then leverage end', 0.5) }} as leverage_p50,
        {{ percentile_cont('case when has_positive_equity then leverage end', 0.9) }} as leverage_p90,
        {{ percentile_cont('case when has_positive_equity then leverage end', 0.99) }} as leverage_p99,
        max(case when has_positive_equity then leverage end) as leverage_max
    from population
    group by 1, 2
    union all
    select
        business_date,
        'ALL',
        count(*),
        sum(case when has_positive_equity then 1 else 0 end),
        {{ percentile_cont('case when has_positive_equity then leverage end', 0.5) }},
        {{ percentile_cont('case when has_positive_equity then leverage end', 0.9) }},
        {{ percentile_cont('case when has_positive_equity then leverage end', 0.99) }},
        max(case when has_positive_equity then leverage end)
    from population
    group by 1, 2
)

select
    cast(t.business_date as date) as business_date,
    cast(t.kyc_tier as {{ dbt.type_string() }}) as kyc_tier,
    cast(coalesce(s.population_accounts, 0) as integer) as population_accounts,
    cast(coalesce(s.positive_equity_accounts, 0) as integer) as positive_equity_accounts,
    cast(s.leverage_p50 as double) as leverage_p50,
    cast(s.leverage_p90 as double) as leverage_p90,
    cast(s.leverage_p99 as double) as leverage_p99,
    cast(s.leverage_max as double) as leverage_max
from tiers as t
left join stats as s on s.business_date = t.business_date and s.kyc_tier = t.kyc_tier
