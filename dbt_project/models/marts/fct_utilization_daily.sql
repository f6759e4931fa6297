{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='append_new_columns') }}
-- M1 capital utilization at each close: ΣL_i over Σ providers' capital balance (SPEC §1.2:
-- contributions − redemptions paid − losses allocated, by settlement date).
with days as (
    select *
    from {{ ref('int_capital__calendar_days') }}
    where is_business_date
),

capital as (
    select
        calendar_day as business_date,
        sum(capital_balance) as total_capital,
        sum(commitment) as total_commitment,
        sum(case when capital_balance > 0 then 1 else 0 end) as providers_with_capital
    from {{ ref('int_capital__provider_days') }}
    where is_business_date
    group by 1
),

joined as (
    select
        d.calendar_day as business_date,
        d.total_loans,
        coalesce(c.total_capital, 0) as total_capital,
        coalesce(c.total_commitment, 0) as total_commitment,
        d.accounts_with_loan,
        coalesce(c.providers_with_capital, 0) as providers_with_capital
    from days as d
    left join capital as c on c.business_date = d.calendar_day
)

select
    cast(business_date as date) as business_date,
    cast(total_loans as decimal(18, 2)) as total_loans,
    cast(total_capital as decimal(18, 2)) as total_capital,
    cast({{ safe_ratio('total_loans', 'total_capital') }} as double) as utilization,
    cast(total_commitment as decimal(18, 2)) as total_commitment,
    cast({{ safe_ratio('total_capital', 'total_commitment') }} as double) as drawdown,
    cast(accounts_with_loan as integer) as accounts_with_loan,
    cast(providers_with_capital as integer) as providers_with_capital
from joined
where true {{ in_window('business_date') }}
