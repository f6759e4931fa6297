{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='append_new_columns') }}
-- M1 per provider at each close: capital balance, commitment, drawdown = balance / commitment, and
-- the loan book allocated pro rata to capital balance (ΣL × balance / Σ balance, exact to 6 dp —
-- an allocation stays unrounded until presented, SPEC §4).
with provider_days as (
    select *
    from {{ ref('int_capital__provider_days') }}
    where is_business_date
),

loan_book as (
    select calendar_day as business_date, total_loans
    from {{ ref('int_capital__calendar_days') }}
    where is_business_date
),

totals as (
    select calendar_day as business_date, sum(capital_balance) as total_capital
    from provider_days
    group by 1
),

joined as (
    select
        p.calendar_day as business_date,
        p.provider_id,
        p.tranche,
        p.commitment,
        p.capital_balance,
        p.contributions,
        p.redemptions_paid,
        p.losses_allocated,
        p.distributions,
        l.total_loans,
        t.total_capital
    from provider_days as p
    inner join loan_book as l on l.business_date = p.calendar_day
    inner join totals as t on t.business_date = p.calendar_day
)

select
    cast(business_date as date) as business_date,
    cast(provider_id as {{ dbt.type_string() }}) as provider_id,
    cast(tranche as {{ dbt.type_string() }}) as tranche,
    cast(commitment as decimal(18, 2)) as commitment,
    cast(capital_balance as decimal(18, 2)) as capital_balance,
    cast({{ safe_ratio('capital_balance', 'commitment') }} as double) as drawdown,
    cast(total_loans as decimal(18, 2)) as total_loans,
    cast(total_capital as decimal(18, 2)) as total_capital,
    cast({{ safe_ratio('capital_balance', 'total_capital') }} as double) as capital_share,
    cast(coalesce({{ div_half_even('cast(total_loans as decimal(38, 2)) * cast(capital_balance as decimal(38, 2))', 'total_capital', 6, 4) }}, 0) as decimal(38, 6))
        as loan_book_allocated,
    cast(contributions as decimal(18, 2)) as contributions,
    cast(redemptions_paid as decimal(18, 2)) as redemptions_paid,
    cast(losses_allocated as decimal(18, 2)) as losses_allocated,
    cast(distributions as decimal(18, 2)) as distributions
from joined
where true {{ in_window('business_date') }}
