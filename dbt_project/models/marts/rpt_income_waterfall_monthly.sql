{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='month',
          on_schema_change='append_new_columns', tags=['monthly']) }}
-- M13 the month-end income waterfall, one row per complete month, in waterfall order:
-- income I (interest charged + the providers' share of performance fees) → 1) SENIOR coupons →
-- 2) MEZZANINE coupons → 3) servicing fee → 4) residual to JUNIOR; a negative residual is a
-- shortfall allocated as a loss, JUNIOR first. Exact amounts (6 dp) beside what was paid (cents).
with months as (
    select * from {{ ref('int_capital__waterfall_months') }}
),

providers as (
    select
        month_start,
        sum(case when tranche = 'SENIOR' then income_distributed else 0 end) as senior_coupons_distributed,
        sum(case when tranche = 'MEZZANINE' then income_distributed else 0 end) as mezzanine_coupons_distributed,
        sum(case when tranche = 'JUNIOR' then income_allocated else 0 end) as junior_residual_allocated,
        sum(case when tranche = 'JUNIOR' then income_distributed else 0 end) as junior_residual_distributed,
        sum(income_distributed) as distributions_total,
        sum(case when tranche = 'JUNIOR' then shortfall_allocated else 0 end) as shortfall_junior,
        sum(case when tranche = 'MEZZANINE' then shortfall_allocated else 0 end) as shortfall_mezzanine,
        sum(case when tranche = 'SENIOR' then shortfall_allocated else 0 end) as shortfall_senior,
        sum(shortfall_allocated) as shortfall_allocated
    from {{ ref('int_capital__waterfall_providers') }}
    group by 1
)

select
    cast(m.month_start as date) as month,
    cast(m.month_end_business_date as date) as month_end_business_date,
    cast(m.calendar_days as integer) as calendar_days,
    cast(m.interest_charged as decimal(18, 2)) as interest_charged,
    cast(m.performance_fees as decimal(18, 2)) as performance_fees,
    cast({{ var('performance_fee_provider_share') }} as decimal(18, 6)) as performance_fee_provider_share_rate,
    cast(m.performance_fee_share as decimal(38, 6)) as performance_fee_share,
    cast(m.income as decimal(38, 6)) as income,
    cast(m.senior_capital_days as decimal(38, 2)) as senior_capital_days,
    cast(m.senior_coupons as decimal(38, 6)) as senior_coupons,
    cast(coalesce(p.senior_coupons_distributed, 0) as decimal(18, 2)) as senior_coupons_distributed,
    cast(m.mezzanine_capital_days as decimal(38, 2)) as mezzanine_capital_days,
    cast(m.mezzanine_coupons as decimal(38, 6)) as mezzanine_coupons,
    cast(coalesce(p.mezzanine_coupons_distributed, 0) as decimal(18, 2)) as mezzanine_coupons_distributed,
    cast(m.loan_days as decimal(38, 2)) as loan_days,
    cast({{ var('servicing_fee_rate') }} as decimal(18, 6)) as servicing_fee_rate,
    cast(m.servicing_fee as decimal(38, 6)) as servicing_fee,
    cast(m.residual as decimal(38, 6)) as residual,
    cast(m.junior_capital_days as decimal(38, 2)) as junior_capital_days,
    cast(coalesce(p.junior_residual_allocated, 0) as decimal(38, 6)) as junior_residual_allocated,
    cast(coalesce(p.junior_residual_distributed, 0) as decimal(18, 2)) as junior_residual_distributed,
    cast(coalesce(p.distributions_total, 0) as decimal(18, 2)) as distributions_total,
    cast(m.shortfall as decimal(18, 2)) as shortfall,
    cast(coalesce(p.shortfall_junior, 0) as decimal(18, 2)) as shortfall_junior,
    cast(coalesce(p.shortfall_mezzanine, 0) as decimal(18, 2)) as shortfall_mezzanine,
    cast(coalesce(p.shortfall_senior, 0) as decimal(18, 2)) as shortfall_senior,
    cast(m.shortfall - coalesce(p.shortfall_allocated, 0) as decimal(18, 2)) as shortfall_unallocated
from months as m
left join providers as p on p.month_start = m.month_start
where true {{ in_month_window('m.month_start') }}
