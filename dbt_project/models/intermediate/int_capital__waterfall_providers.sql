-- Each provider's part of a complete month's income waterfall: capital·days Σ_d B_p(d), the
-- coupon (SENIOR, MEZZANINE) or the residual share (JUNIOR, pro rata to capital·days), both
-- exact to 6 dp and as paid (half-even to the cent, the DISTRIBUTION the capital desk books), the
-- part of that income that came from the providers' share of performance fees (income is pooled:
-- income_p × performance-fee share / I), and the shortfall a negative residual allocates (JUNIOR
-- first, then MEZZANINE, then SENIOR, each at most its balance, pro rata to capital·days inside a
-- tranche, remainder to the largest weight then the lowest id).
with months as (
    select * from {{ ref('int_capital__waterfall_months') }}
),

provider_days as (
    select p.*
    from {{ ref('int_capital__provider_days') }} as p
    inner join months as m on m.month_start = p.month_start
),

providers as (
    select
        d.provider_id,
        d.month_start,
        max(case when d.calendar_day = m.month_end_business_date then d.tranche end) as tranche,
        max(case when d.calendar_day = m.month_end_business_date then d.coupon_rate end) as coupon_rate,
        -- the balance the waterfall's own shortfall is capped by: after the day's defaults, before it
        max(case when d.calendar_day = m.month_end_business_date then d.waterfall_balance end) as month_end_balance,
        sum(d.waterfall_balance) as capital_days,
        sum({{ to_units('coalesce(d.coupon_rate, 0)', 6) }} * {{ to_units('d.waterfall_balance', 2) }}) as coupon_units
    from provider_days as d
    inner join months as m on m.month_start = d.month_start
    group by 1, 2
),

shares as (
    select
        p.provider_id,
        p.month_start,
        p.tranche,
        p.coupon_rate,
        cast(p.month_end_balance as decimal(38, 2)) as month_end_balance,
        cast(p.capital_days as decimal(38, 2)) as capital_days,
        m.shortfall,
        m.residual_units,
        m.junior_capital_days,
        m.interest_units,
        m.performance_fee_share_units,
        case when p.tranche in ('SENIOR', 'MEZZANINE') then p.coupon_units else 0 end as coupon_units
    from providers as p
    inner join months as m on m.month_start = p.month_start
),

income as (
    select
        *,
        case
            when tranche in ('SENIOR', 'MEZZANINE') then {{ div_half_even('coupon_units', '36000000000', 6, 0) }}
            when tranche = 'JUNIOR' and residual_units >= 0 and junior_capital_days > 0 then
                {{ div_half_even('residual_units * ' ~ to_units('capital_days', 2), '36000000000 * ' ~ to_units('junior_capital_days', 2), 6, 0) }}
            else cast(0 as decimal(38, 6))
        end as income_allocated,
        case
            when tranche in ('SENIOR', 'MEZZANINE') then {{ div_half_even('coupon_units', '36000000000', 2, 0) }}
            when tranche = 'JUNIOR' and residual_units >= 0 and junior_capital_days > 0 then
                {{ div_half_even('residual_units * ' ~ to_units('capital_days', 2), '36000000000 * ' ~ to_units('junior_capital_days', 2), 2, 0) }}
            else cast(0 as decimal(38, 2))
        end as income_distributed
    from shares
),

shortfall as (
    {{ loss_waterfall_shares(
        relation='income',
        partition_by='month_start',
        amount='shortfall',
        cap='month_end_balance',
        weight='capital_days') }}
)

select
    provider_id,
    month_start,
    tranche,
    coupon_rate,
    month_end_balance,
    capital_days,
    cast(income_allocated as decimal(38, 6)) as income_allocated,
    cast(income_distributed as decimal(18, 2)) as income_distributed,
    cast(case when interest_units + performance_fee_share_units > 0 then
        {{ div_half_even(to_units('income_allocated', 6) ~ ' * performance_fee_share_units',
                         '1000000 * (interest_units + performance_fee_share_units)', 6, 0) }}
        else 0 end as decimal(38, 6)) as performance_fee_share,
    cast(allocated as decimal(18, 2)) as shortfall_allocated,
    takes_remainder as takes_shortfall_remainder
from shortfall
