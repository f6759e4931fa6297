{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='append_new_columns') }}
-- M4 at each close: accounts with L_i > 0 below the warning line (m < W) and below maintenance
-- (m < MM), tested exactly as E < W·G and E < MM·G — so an account with a loan, no exposure and
-- negative equity is below both; calls issued (WARNING events), liquidation triggers and calls
-- cured that day.
with accounts as (
    select *
    from {{ ref('int_accounts__daily') }}
    where has_loan {{ in_window('business_date') }}
),

dates as (
    select business_date
    from {{ ref('int_calendar__business_days') }}
    where true {{ in_window('business_date') }}
),

positions as (
    select
        business_date,
        count(*) as accounts_with_loan,
        sum(loan_principal) as loans,
        sum(case when equity < warning_rate * gross_exposure then 1 else 0 end) as accounts_below_warning,
        sum(case when equity < mm_rate * gross_exposure then 1 else 0 end) as accounts_below_maintenance,
        sum(case when equity < warning_rate * gross_exposure then loan_principal else 0 end) as loans_below_warning,
        sum(case when equity < mm_rate * gross_exposure then loan_principal else 0 end) as loans_below_maintenance
    from accounts
    group by 1
),

events as (
    select
        business_date,
        sum(case when event_type = 'WARNING' then 1 else 0 end) as warnings_issued,
        sum(case when event_type = 'LIQUIDATION_TRIGGER' then 1 else 0 end) as liquidation_triggers
    from {{ ref('stg_risk__events') }}
    where event_type in ('WARNING', 'LIQUIDATION_TRIGGER') {{ in_window('business_date') }}
    group by 1
),

cures as (
    select cured_on as business_date, count(*) as calls_cured
    from {{ ref('fct_margin_calls') }}
    where cured_on is not null {{ in_window('cured_on') }}
    group by 1
)

select
    cast(d.business_date as date) as business_date,
    cast(coalesce(p.accounts_with_loan, 0) as integer) as accounts_with_loan,
    cast(coalesce(p.loans, 0) as decimal(18, 2)) as loans,
    cast(coalesce(p.accounts_below_warning, 0) as integer) as accounts_below_warning,
    cast(coalesce(p.accounts_below_maintenance, 0) as integer) as accounts_below_maintenance,
    cast({{ safe_ratio('p.accounts_below_warning', 'p.accounts_with_loan') }} as double) as share_below_warning,
    cast({{ safe_ratio('p.accounts_below_maintenance', 'p.accounts_with_loan') }} as double) as share_below_maintenance,
    cast(coalesce(p.loans_below_warning, 0) as decimal(18, 2)) as loans_below_warning,
    cast(coalesce(p.loans_below_maintenance, 0) as decimal(18, 2)) as loans_below_maintenance,
    cast(coalesce(e.warnings_issued, 0) as integer) as warnings_issued,
    cast(coalesce(e.liquidation_triggers, 0) as integer) as liquidation_triggers,
    cast(coalesce(c.calls_cured, 0) as integer) as calls_cured
from dates as d
left join positions as p on p.business_date = d.business_date
left join events as e on e.business_date = d.business_date
left join cures as c on c.business_date = d.business_date
