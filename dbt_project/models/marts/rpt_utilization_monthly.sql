{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month',
          on_schema_change='append_new_columns', tags=['monthly']) }}
-- M1 per month: mean and peak of the daily figures over the month's business days (CPMI-IOSCO PQD
-- convention: max and mean of daily values) for the platform, each tranche and each provider —
-- utilization = loan book / capital balance (a tranche's or provider's loan book is its pro-rata
-- allocation, so its utilization equals the platform's on days it has capital), drawdown = capital
-- balance / commitment, capital balance and loan book; the peak day with its numerator and
-- denominator; month-end values.
with platform as (
    select
        business_date,
        'PLATFORM' as scope_level,
        'ALL' as scope_id,
        'ALL' as tranche,
        total_capital as capital_balance,
        total_commitment as commitment,
        cast(total_loans as decimal(38, 6)) as loan_book
    from {{ ref('fct_utilization_daily') }}
),

providers as (
    select
        business_date,
        'PROVIDER' as scope_level,
        provider_id as scope_id,
        tranche,
        capital_balance,
        commitment,
        loan_book_allocated as loan_book
    from {{ ref('fct_provider_capital_daily') }}
),

tranches as (
    select
        business_date,
        'TRANCHE' as scope_level,
        tranche as scope_id,
        tranche,
        sum(capital_balance) as capital_balance,
        sum(commitment) as commitment,
        sum(loan_book) as loan_book
    from providers
    group by 1, 2, 3, 4
),

daily as (
    select
        *,
        cast({{ dbt.date_trunc('month', 'business_date') }} as date) as month_start,
        {{ safe_ratio('loan_book', 'capital_balance') }} as utilization,
        {{ safe_ratio('capital_balance', 'commitment') }} as drawdown
    from (
        select * from platform
        union all select * from tranches
        union all select * from providers
    ) as scopes
),

ranked as (
    select
        *,
        row_number() over (partition by month_start, scope_level, scope_id
                           order by case when utilization is null then 1 else 0 end, utilization desc, business_date) as utilization_rank,
        row_number() over (partition by month_start, scope_level, scope_id order by business_date desc) as recency
    from daily
),

monthly as (
    select
        month_start,
        scope_level,
        scope_id,
        max(tranche) as tranche,
        count(*) as business_days,
        avg(utilization) as mean_utilization,
        max(utilization) as peak_utilization,
        avg(drawdown) as mean_drawdown,
        max(drawdown) as peak_drawdown,
        sum(capital_balance) as sum_capital_balance,
        max(capital_balance) as peak_capital_balance,
        sum(loan_book) as sum_loan_book,
        max(loan_book) as peak_loan_book,
        max(case when utilization_rank = 1 and utilization is not null then business_date end) as peak_utilization_date,
        max(case when utilization_rank = 1 and utilization is not null then loan_book end) as loan_book_at_peak,
        max(case when utilization_rank = 1 and utilization is not null then capital_balance end) as capital_balance_at_peak,
        max(case when recency = 1 then capital_balance end) as month_end_capital_balance,
        max(case when recency = 1 then commitment end) as month_end_commitment,
        max(case when recency = 1 then loan_book end) as month_end_loan_book,
        max(case when recency = 1 then utilization end) as month_end_utilization
    from ranked
    group by 1, 2, 3
)

select
    cast(month_start as date) as month,
    cast(scope_level as {{ dbt.type_string() }}) as scope_level,
    cast(scope_id as {{ dbt.type_string() }}) as scope_id,
    cast(tranche as {{ dbt.type_string() }}) as tranche,
    cast(business_days as integer) as business_days,
    cast(mean_utilization as double) as mean_utilization,
    cast(peak_utilization as double) as peak_utilization,
    cast(peak_utilization_date as date) as peak_utilization_date,
    cast(loan_book_at_peak as decimal(38, 6)) as loan_book_at_peak,
    cast(capital_balance_at_peak as decimal(18, 2)) as capital_balance_at_peak,
    cast({{ div_half_even('sum_loan_book', 'business_days', 6, 6) }} as decimal(38, 6)) as mean_loan_book,
    cast(peak_loan_book as decimal(38, 6)) as peak_loan_book,
    cast({{ div_half_even('sum_capital_balance', 'business_days', 6, 2) }} as decimal(38, 6)) as mean_capital_balance,
    cast(peak_capital_balance as decimal(18, 2)) as peak_capital_balance,
    cast(mean_drawdown as double) as mean_drawdown,
    cast(peak_drawdown as double) as peak_drawdown,
    cast(month_end_capital_balance as decimal(18, 2)) as month_end_capital_balance,
    cast(month_end_commitment as decimal(18, 2)) as month_end_commitment,
    cast(month_end_loan_book as decimal(38, 6)) as month_end_loan_book,
    cast(month_end_utilization as double) as month_end_utilization
from monthly
where true {{ in_month_window('month_start') }}
