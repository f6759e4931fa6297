{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='append_new_columns') }}
-- M2 leverage distribution at each close: accounts with L_i > 0 bucketed by λ = G/E with upper
-- bounds included — (0,1], (1,2], (2,3], (3,5], >5 — and `negative_equity` for E ≤ 0 (λ undefined).
-- Bounds are tested exactly on decimals (G ≤ k·E), not on the DOUBLE λ, so λ exactly 1, 2, 3 or 5
-- lands in the lower bucket. An account with no exposure (G = 0, E > 0, λ = 0) counts in (0,1].
-- Every bucket is published for every kyc tier (and ALL), with zeros where empty.
with accounts as (
    select *
    from {{ ref('int_accounts__daily') }}
    where true {{ in_window('business_date') }}
),

population as (
    select
        business_date,
        kyc_tier,
        gross_exposure,
        loan_principal,
        case
            when equity <= 0 then 'negative_equity'
            when gross_exposure <= 1 * equity then '(0,1]'
            when gross_exposure <= 2 * equity then '(1,2]'
            when gross_exposure <= 3 * equity then '(2,3]'
            when gross_exposure <= 5 * equity then '(3,5]'
            else '>5'
        end as bucket
    from accounts
    where has_loan
),

buckets as (
    select '(0,1]' as bucket, 1 as bucket_order
    union all select '(1,2]', 2
    union all select '(2,3]', 3
    union all select '(3,5]', 4
    union all select '>5', 5
    union all select 'negative_equity', 6
),

tiers as (
    -- every tier known that day (not only those with loans), so the grid does not come and go
    select distinct business_date, kyc_tier from accounts where kyc_tier is not null
    union
    select distinct business_date, 'ALL' from accounts
),

grid as (
    select t.business_date, t.kyc_tier, b.bucket, b.bucket_order
    from tiers as t
    cross join buckets as b
),

by_tier as (
    select business_date, kyc_tier, bucket, count(*) as accounts, sum(gross_exposure) as gross_exposure,
           sum(loan_principal) as loans
    from population
    group by 1, 2, 3
    union all
    select business_date, 'ALL', bucket, count(*), sum(gross_exposure), sum(loan_principal)
    from population
    group by 1, 2, 3
),

tier_population as (
    select business_date, kyc_tier, sum(accounts) as population_accounts
    from by_tier
    group by 1, 2
)

select
    cast(g.business_date as date) as business_date,
    cast(g.kyc_tier as {{ dbt.type_string() }}) as kyc_tier,
    cast(g.bucket as {{ dbt.type_string() }}) as bucket,
    cast(g.bucket_order as integer) as bucket_order,
    cast(coalesce(b.accounts, 0) as integer) as accounts,
    cast(coalesce(b.gross_exposure, 0) as decimal(38, 6)) as gross_exposure,
    cast(coalesce(b.loans, 0) as decimal(18, 2)) as loans,
    cast(coalesce(p.population_accounts, 0) as integer) as population_accounts,
    cast({{ safe_ratio('coalesce(b.accounts, 0)', 'p.population_accounts') }} as double) as account_share
from grid as g
left join by_tier as b on b.business_date = g.business_date and b.kyc_tier = g.kyc_tier and b.bucket = g.bucket
left join tier_population as p on p.business_date = g.business_date and p.kyc_tier = g.kyc_tier
