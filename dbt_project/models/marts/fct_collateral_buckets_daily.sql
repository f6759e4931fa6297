{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='append_new_columns') }}
-- M3 collateral ratio distribution at each close: accounts with L_i > 0 bucketed by
-- MR = (cash + MV) / (L + A) with lower bounds included: <130%, [130%,150%), [150%,300%), >=300%.
-- Bounds are tested exactly on decimals ((cash + MV) < 1.30·(L + A)), so MR exactly 130 % is in
-- [130%,150%). With L > 0, L + A > 0 (A ≥ −0.005 after a month-end rounding), so MR is defined.
with accounts as (
    select *
    from {{ ref('int_accounts__daily') }}
    where has_loan {{ in_window('business_date') }}
),

population as (
    select
        business_date,
        loan_principal,
        gross_exposure,
        case
            when cash + market_value < 1.30 * (loan_principal + accrued_interest) then '<130%'
            when cash + market_value < 1.50 * (loan_principal + accrued_interest) then '[130%,150%)'
            when cash + market_value < 3.00 * (loan_principal + accrued_interest) then '[150%,300%)'
            else '>=300%'
        end as bucket
    from accounts
),

buckets as (
    select '<130%' as bucket, 1 as bucket_order
    union all select '[130%,150%)', 2
    union all select '[150%,300%)', 3
    union all select '>=300%', 4
),

dates as (
    -- every close, even one without a loan on the book
    select business_date
    from {{ ref('int_calendar__business_days') }}
    where true {{ in_window('business_date') }}
),

counts as (
    select business_date, bucket, count(*) as accounts, sum(loan_principal) as loans, sum(gross_exposure) as gross_exposure
    from population
    group by 1, 2
),

totals as (
    select business_date, count(*) as population_accounts, sum(loan_principal) as population_loans
    from population
    group by 1
)

select
    cast(d.business_date as date) as business_date,
    cast(b.bucket as {{ dbt.type_string() }}) as bucket,
    cast(b.bucket_order as integer) as bucket_order,
    cast(coalesce(c.accounts, 0) as integer) as accounts,
    cast(coalesce(c.loans, 0) as decimal(18, 2)) as loans,
    cast(coalesce(c.gross_exposure, 0) as decimal(38, 6)) as gross_exposure,
    cast(coalesce(t.population_accounts, 0) as integer) as population_accounts,
    cast(coalesce(t.population_loans, 0) as decimal(18, 2)) as population_loans,
    cast({{ safe_ratio('coalesce(c.accounts, 0)', 't.population_accounts') }} as double) as account_share,
    cast({{ safe_ratio('coalesce(c.loans, 0)', 't.population_loans') }} as double) as loan_share
from dates as d
cross join buckets as b
left join counts as c on c.business_date = d.business_date and c.bucket = b.bucket
left join totals as t on t.business_date = d.business_date
