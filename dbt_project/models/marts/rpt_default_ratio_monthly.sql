{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month',
          on_schema_change='append_new_columns', tags=['monthly']) }}
-- M5 default ratio per month.
-- count:  accounts with a DEFAULT in the month / accounts with L_i > 0 at any close of the month
--         (a defaulting account whose last close with a loan fell in the previous month is added
--         to the denominator, so the ratio stays within [0, 1]);
-- amount: Σ S / mean over the month's business days of ΣL;
-- annualised amount = amount × 365 / calendar days of the month (up to the last loaded close for
--         a month still running).
with months as (
    select month_start, count(*) as calendar_days
    from {{ ref('int_capital__calendar_days') }}
    group by 1
),

defaults as (
    select
        cast({{ dbt.date_trunc('month', 'business_date') }} as date) as month_start,
        account_id,
        shortfall,
        compensation,
        write_off,
        loss_allocated
    from {{ ref('fct_defaults') }}
),

borrowers as (
    select distinct cast({{ dbt.date_trunc('month', 'business_date') }} as date) as month_start, account_id
    from {{ ref('int_accounts__daily') }}
    where has_loan
    union
    select distinct month_start, account_id from defaults
),

loan_book as (
    select
        cast({{ dbt.date_trunc('month', 'business_date') }} as date) as month_start,
        count(*) as business_days,
        sum(total_loans) as sum_total_loans
    from {{ ref('fct_utilization_daily') }}
    group by 1
),

default_totals as (
    select
        month_start,
        count(*) as defaults,
        count(distinct account_id) as accounts_defaulted,
        sum(shortfall) as total_shortfall,
        sum(compensation) as total_compensation,
        sum(write_off) as total_write_off,
        sum(loss_allocated) as total_loss_allocated
    from defaults
    group by 1
),

borrower_totals as (
    select month_start, count(*) as accounts_with_loan from borrowers group by 1
),

joined as (
    select
        m.month_start,
        m.calendar_days,
        coalesce(l.business_days, 0) as business_days,
        coalesce(d.defaults, 0) as defaults,
        coalesce(d.accounts_defaulted, 0) as accounts_defaulted,
        coalesce(b.accounts_with_loan, 0) as accounts_with_loan,
        coalesce(d.total_shortfall, 0) as total_shortfall,
        coalesce(d.total_compensation, 0) as total_compensation,
        coalesce(d.total_write_off, 0) as total_write_off,
        coalesce(d.total_loss_allocated, 0) as total_loss_allocated,
        {{ div_half_even('l.sum_total_loans', 'l.business_days', 6, 2) }} as mean_total_loans
    from months as m
    left join loan_book as l on l.month_start = m.month_start
    left join default_totals as d on d.month_start = m.month_start
    left join borrower_totals as b on b.month_start = m.month_start
)

select
    cast(month_start as date) as month,
    cast(calendar_days as integer) as calendar_days,
    cast(business_days as integer) as business_days,
    cast(defaults as integer) as defaults,
    cast(accounts_defaulted as integer) as accounts_defaulted,
    cast(accounts_with_loan as integer) as accounts_with_loan,
    cast({{ safe_ratio('accounts_defaulted', 'accounts_with_loan') }} as double) as default_ratio_count,
    cast(total_shortfall as decimal(18, 2)) as total_shortfall,
    cast(mean_total_loans as decimal(38, 6)) as mean_total_loans,
    cast({{ safe_ratio('total_shortfall', 'mean_total_loans') }} as double) as default_ratio_amount,
    cast({{ safe_ratio('total_shortfall * 365', 'mean_total_loans * calendar_days') }} as double) as default_ratio_amount_annualised,
    cast(total_compensation as decimal(18, 2)) as total_compensation,
    cast(total_write_off as decimal(18, 2)) as total_write_off,
    cast(total_loss_allocated as decimal(18, 2)) as total_loss_allocated
from joined
where true {{ in_month_window('month_start') }}
