-- M9 per business date: the custody closing balance (CLBD) of RISK_RESERVE against the worst
-- scenario's Cover-2 (fct_stress_daily.is_worst) and against ΣL. Coverage is n/a (NULL) when that
-- Cover-2 is 0 — there is nothing to cover — and such a day is not "below 1".
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='fail') }}

with days as (
    select business_date
    from {{ ref('int_calendar__business_days') }}
    where true
    {{ in_window('business_date') }}
),

-- the day's closing balance in the base currency; should overlapping statements both carry a CLBD
-- for the date, the latest-dated one (then the last statement id) is the day's close
reserve as (
    select business_date, signed_amount as reserve_balance
    from (
        select
            business_date,
            signed_amount,
            row_number() over (
                partition by business_date order by balance_date desc, statement_id desc
            ) as rn
        from {{ ref('stg_custody__balances') }}
        where custody_account = 'RISK_RESERVE'
          and balance_type = 'CLBD'
          and currency = 'CNY'
          {{ in_window('business_date') }}
    ) as ranked
    where rn = 1
),

worst as (
    select business_date, scenario_id, cover_2
    from {{ ref('fct_stress_daily') }}
    where is_worst
    {{ in_window('business_date') }}
),

loans as (
    select business_date, sum(loan_principal) as total_loans
    from {{ ref('int_accounts__daily') }}
    where true
    {{ in_window('business_date') }}
    group by 1
),

joined as (
    select
        d.business_date,
        r.reserve_balance,
        w.scenario_id as worst_scenario_id,
        coalesce(w.cover_2, 0) as worst_cover_2,
        coalesce(l.total_loans, 0) as total_loans
    from days as d
    left join reserve as r on r.business_date = d.business_date
    left join worst as w on w.business_date = d.business_date
    left join loans as l on l.business_date = d.business_date
)

select
    cast(business_date as date) as business_date,
    cast(reserve_balance as decimal(18, 2)) as reserve_balance,
    worst_scenario_id as worst_scenario_id,
    cast(worst_cover_2 as decimal(18, 2)) as worst_cover_2,
    cast({{ safe_ratio('reserve_balance', 'worst_cover_2') }} as double) as reserve_to_cover_2,
    cast(worst_cover_2 = 0 as boolean) as is_coverage_na,
    cast(worst_cover_2 > 0 and reserve_balance < worst_cover_2 as boolean) as is_below_one,
    cast(case when reserve_balance is not null
              then greatest(worst_cover_2 - reserve_balance, 0) end as decimal(18, 2)) as coverage_gap,
    cast(total_loans as decimal(18, 2)) as total_loans,
    cast({{ safe_ratio('reserve_balance', 'total_loans') }} as double) as reserve_to_loans
from joined
