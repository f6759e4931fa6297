-- The month-end income waterfall (SPEC §1, simulator/README.md) per complete month, exactly:
--   I = interest charged in the month + provider share (30 %) × performance fees;
--   coupon_p = coupon_rate_p × Σ_d B_p(d) / 360 for SENIOR and MEZZANINE (every calendar day d of
--   the month, B_p(d) = int_capital__provider_days.waterfall_balance);
--   servicing fee F = 0.5 % × Σ_d ΣL(d) / 360;  residual R = I − Σ coupons − F (unrounded coupons),
--   to JUNIOR pro rata to capital·days when ≥ 0, else a shortfall half-even(−R) allocated as a loss.
-- Amounts × 360 are carried as integers of 10^-8 CNY (`*_units`: cents × rates with 6 decimals),
-- so every figure below is exact and rounded once, where it is published.
with calendar as (
    select * from {{ ref('int_capital__calendar_days') }}
    where is_month_complete
),

months as (
    select
        month_start,
        max(month_end_business_date) as month_end_business_date,
        count(*) as calendar_days,
        sum(total_loans) as loan_days
    from calendar
    group by 1
),

provider_days as (
    select p.*
    from {{ ref('int_capital__provider_days') }} as p
    inner join months as m on m.month_start = p.month_start
),

month_end_terms as (
    -- the tranche a provider is in at the month-end close
    select d.provider_id, d.month_start, d.tranche
    from provider_days as d
    inner join months as m on m.month_start = d.month_start and d.calendar_day = m.month_end_business_date
),

capital_days as (
    select
        d.month_start,
        t.tranche,
        sum(d.waterfall_balance) as capital_days,
        sum(case when t.tranche in ('SENIOR', 'MEZZANINE')
                 then {{ to_units('coalesce(d.coupon_rate, 0)', 6) }} * {{ to_units('d.waterfall_balance', 2) }}
                 else 0 end) as coupon_units
    from provider_days as d
    inner join month_end_terms as t on t.provider_id = d.provider_id and t.month_start = d.month_start
    group by 1, 2
),

by_month as (
    select
        month_start,
        sum(case when tranche = 'SENIOR' then capital_days else 0 end) as senior_capital_days,
        sum(case when tranche = 'MEZZANINE' then capital_days else 0 end) as mezzanine_capital_days,
        sum(case when tranche = 'JUNIOR' then capital_days else 0 end) as junior_capital_days,
        sum(case when tranche = 'SENIOR' then coupon_units else 0 end) as senior_coupon_units,
        sum(case when tranche = 'MEZZANINE' then coupon_units else 0 end) as mezzanine_coupon_units
    from capital_days
    group by 1
),

income as (
    select
        cast({{ dbt.date_trunc('month', 'business_date') }} as date) as month_start,
        sum(case when entry_type = 'INTEREST' then amount else 0 end) as interest_charged,
        sum(case when entry_type = 'PERFORMANCE_FEE' then amount else 0 end) as performance_fees
    from {{ ref('stg_ledger__entries') }}
    where entry_type in ('INTEREST', 'PERFORMANCE_FEE')
    group by 1
),

units as (
    select
        m.month_start,
        m.month_end_business_date,
        m.calendar_days,
        cast(m.loan_days as decimal(38, 2)) as loan_days,
        cast(coalesce(c.senior_capital_days, 0) as decimal(38, 2)) as senior_capital_days,
        cast(coalesce(c.mezzanine_capital_days, 0) as decimal(38, 2)) as mezzanine_capital_days,
        cast(coalesce(c.junior_capital_days, 0) as decimal(38, 2)) as junior_capital_days,
        cast(coalesce(i.interest_charged, 0) as decimal(18, 2)) as interest_charged,
        cast(coalesce(i.performance_fees, 0) as decimal(18, 2)) as performance_fees,
        -- × 360 in 10^-8 units: cents × 10^6, or 10^-6 rates × cents
        360 * {{ to_units('coalesce(i.interest_charged, 0)', 8) }} as interest_units,
        360 * {{ to_units(var('performance_fee_provider_share'), 6) }} * {{ to_units('coalesce(i.performance_fees, 0)', 2) }}
            as performance_fee_share_units,
        coalesce(c.senior_coupon_units, 0) as senior_coupon_units,
        coalesce(c.mezzanine_coupon_units, 0) as mezzanine_coupon_units,
        {{ to_units(var('servicing_fee_rate'), 6) }} * {{ to_units('m.loan_days', 2) }} as servicing_fee_units
    from months as m
    left join by_month as c on c.month_start = m.month_start
    left join income as i on i.month_start = m.month_start
),

residual as (
    select
        *,
        interest_units + performance_fee_share_units - senior_coupon_units - mezzanine_coupon_units - servicing_fee_units
            as residual_units
    from units
)

select
    month_start,
    month_end_business_date,
    cast(calendar_days as integer) as calendar_days,
    interest_charged,
    performance_fees,
    {{ div_half_even('performance_fee_share_units', '36000000000', 6, 0) }} as performance_fee_share,
    {{ div_half_even('interest_units + performance_fee_share_units', '36000000000', 6, 0) }} as income,
    senior_capital_days,
    mezzanine_capital_days,
    junior_capital_days,
    loan_days,
    {{ div_half_even('senior_coupon_units', '36000000000', 6, 0) }} as senior_coupons,
    {{ div_half_even('mezzanine_coupon_units', '36000000000', 6, 0) }} as mezzanine_coupons,
    {{ div_half_even('servicing_fee_units', '36000000000', 6, 0) }} as servicing_fee,
    {{ div_half_even('residual_units', '36000000000', 6, 0) }} as residual,
    -- a negative residual is a loss to the providers, rounded once (half-even) before allocation
    case when residual_units < 0 then {{ div_half_even('-residual_units', '36000000000', 2, 0) }}
         else cast(0 as decimal(38, 2)) end as shortfall,
    interest_units,
    performance_fee_share_units,
    senior_coupon_units,
    mezzanine_coupon_units,
    servicing_fee_units,
    residual_units
from residual
