-- M15 per business date: cash at custody available within the horizon (CLBD of CAPITAL_POOL and
-- CLIENT_MARGIN_POOL, METRICS.md) against the outflows the horizon can bring: provider redemptions
-- requested and not yet paid, plus stressed client withdrawals (a share of the clients' positive cash).
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='fail') }}

with days as (
    select business_date
    from {{ ref('int_calendar__business_days') }}
    where true
    {{ in_window('business_date') }}
),

balances as (
    select business_date, custody_account, signed_amount
    from (
        select
            business_date,
            custody_account,
            signed_amount,
            row_number() over (
                partition by business_date, custody_account order by balance_date desc, statement_id desc
            ) as rn
        from {{ ref('stg_custody__balances') }}
        where custody_account in ('CAPITAL_POOL', 'CLIENT_MARGIN_POOL')
          and balance_type = 'CLBD'
          and currency = 'CNY'
          {{ in_window('business_date') }}
    ) as ranked
    where rn = 1
),

custody as (
    select
        business_date,
        sum(case when custody_account = 'CAPITAL_POOL' then signed_amount end) as capital_pool_balance,
        sum(case when custody_account = 'CLIENT_MARGIN_POOL' then signed_amount end) as client_margin_pool_balance
    from balances
    group by 1
),

-- per provider at each close: requested (by event date) − paid (by settlement date), at most the
-- provider's capital balance (a payment is capped at it, so a larger request cannot fall due)
provider_position as (
    select
        d.business_date,
        e.provider_id,
        sum(case when e.event_type = 'REDEMPTION_REQUEST' and e.event_date <= d.business_date then e.amount else 0 end)
            as requested,
        sum(case when e.event_type = 'REDEMPTION_PAID' and e.settlement_date <= d.business_date then e.amount else 0 end)
            as paid,
        sum(case when e.settlement_date <= d.business_date then e.capital_effect else 0 end) as capital_balance
    from days as d
    inner join {{ ref('stg_capital__events') }} as e
        on e.event_date <= d.business_date or e.settlement_date <= d.business_date
    group by 1, 2
),

redemptions as (
    select
        business_date,
        sum(least(greatest(requested - paid, 0), greatest(capital_balance, 0))) as pending_redemptions
    from provider_position
    group by 1
),

client_cash as (
    select business_date, sum(case when cash > 0 then cash else 0 end) as client_positive_cash
    from {{ ref('int_accounts__daily') }}
    where true
    {{ in_window('business_date') }}
    group by 1
),

params as (
    select
        {{ risk_param('stressed_withdrawal_rate') }} as withdrawal_rate,
        {{ risk_param('liquidity_horizon_days') }} as horizon_days
),

joined as (
    select
        d.business_date,
        c.capital_pool_balance,
        c.client_margin_pool_balance,
        c.capital_pool_balance + c.client_margin_pool_balance as available_cash,
        coalesce(r.pending_redemptions, 0) as pending_redemptions,
        coalesce(cc.client_positive_cash, 0) as client_positive_cash,
        p.withdrawal_rate,
        p.horizon_days,
        {{ round_half_even('coalesce(cc.client_positive_cash, 0) * p.withdrawal_rate', 2) }} as stressed_withdrawals
    from days as d
    cross join params as p
    left join custody as c on c.business_date = d.business_date
    left join redemptions as r on r.business_date = d.business_date
    left join client_cash as cc on cc.business_date = d.business_date
)

select
    cast(business_date as date) as business_date,
    cast(horizon_days as integer) as horizon_days,
    cast(capital_pool_balance as decimal(18, 2)) as capital_pool_balance,
    cast(client_margin_pool_balance as decimal(18, 2)) as client_margin_pool_balance,
    cast(available_cash as decimal(18, 2)) as available_cash,
    cast(pending_redemptions as decimal(18, 2)) as pending_redemptions,
    cast(client_positive_cash as decimal(18, 2)) as client_positive_cash,
    cast(withdrawal_rate as decimal(18, 6)) as stressed_withdrawal_rate,
    cast(stressed_withdrawals as decimal(18, 2)) as stressed_withdrawals,
    cast(pending_redemptions + stressed_withdrawals as decimal(18, 2)) as stressed_outflows,
    cast({{ safe_ratio('available_cash', 'pending_redemptions + stressed_withdrawals') }} as double) as liquidity_coverage
from joined
