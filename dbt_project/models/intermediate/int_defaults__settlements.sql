-- One row per DEFAULT (SPEC §1.2): the shortfall S = −equity of the DEFAULT event and what the
-- ledger booked for the account that day — INTEREST as far as cash covered it, LOAN_REPAY of the
-- cash left, DEFAULT_COMPENSATION from the reserve and WRITE_OFF — split into interest and
-- principal (compensation and write-off each reduce unpaid interest first), with the reserve the
-- compensation could draw on: RISK_RESERVE's custody closing balance of the previous business day
-- less what earlier defaults that day (in DEFAULT event_time order) already took.
with risk_events as (
    select * from {{ ref('stg_risk__events') }}
),

defaults as (
    select
        event_id as default_event_id,
        account_id,
        liquidation_id,
        business_date,
        event_time as default_at,
        -equity as shortfall
    from risk_events
    where event_type = 'DEFAULT'
),

liquidations as (
    select
        liquidation_id,
        min(case when event_type = 'LIQUIDATION_TRIGGER' then event_time end) as liquidation_triggered_at,
        max(case when event_type = 'LIQUIDATION_DONE' then event_time end) as liquidation_done_at
    from risk_events
    where liquidation_id is not null
    group by 1
),

ledger as (
    select
        account_id,
        business_date,
        sum(case when entry_type = 'INTEREST' then amount else 0 end) as interest_charged,
        sum(case when entry_type = 'LOAN_REPAY' then amount else 0 end) as loan_repaid,
        sum(case when entry_type = 'LOAN_DRAW' then amount else 0 end) as loan_drawn,
        sum(case when entry_type = 'DEFAULT_COMPENSATION' then amount else 0 end) as compensation,
        sum(case when entry_type = 'WRITE_OFF' then amount else 0 end) as write_off
    from {{ ref('stg_ledger__entries') }}
    where entry_type in ('INTEREST', 'LOAN_REPAY', 'LOAN_DRAW', 'DEFAULT_COMPENSATION', 'WRITE_OFF')
    group by 1, 2
),

accounts as (
    select
        account_id,
        business_date,
        client_id,
        group_id,
        kyc_tier,
        -- principal at the previous close: the claim's principal is what the day's repayment left of it
        lag(loan_principal) over (partition by account_id order by business_date) as previous_loan_principal
    from {{ ref('int_accounts__daily') }}
),

calendar as (
    select * from {{ ref('int_calendar__business_days') }}
),

reserve_balances as (
    -- one closing (and opening) balance per business date; a statement landed in both forms is one
    select
        business_date,
        max(case when balance_type = 'CLBD' then signed_amount end) as closing_balance,
        max(case when balance_type = 'OPBD' then signed_amount end) as opening_balance
    from {{ ref('stg_custody__balances') }}
    where custody_account = 'RISK_RESERVE'
    group by 1
),

joined as (
    select
        d.default_event_id,
        d.account_id,
        a.client_id,
        a.group_id,
        a.kyc_tier,
        d.liquidation_id,
        d.business_date,
        d.default_at,
        l.liquidation_triggered_at,
        l.liquidation_done_at,
        row_number() over (partition by d.business_date order by d.default_at, d.default_event_id) as default_seq,
        d.shortfall,
        coalesce(g.interest_charged, 0) as interest_charged,
        coalesce(g.loan_repaid, 0) as loan_repaid,
        coalesce(g.compensation, 0) as compensation,
        coalesce(g.write_off, 0) as write_off,
        -- the claim's principal: the previous close's principal plus the day's draws, less the repayment
        coalesce(a.previous_loan_principal, 0) + coalesce(g.loan_drawn, 0) - coalesce(g.loan_repaid, 0) as claim_principal,
        -- first business date: the balance brought forward is the day's opening balance
        coalesce(prev_r.closing_balance, r.opening_balance, 0) as reserve_previous_close
    from defaults as d
    left join ledger as g on g.account_id = d.account_id and g.business_date = d.business_date
    left join accounts as a on a.account_id = d.account_id and a.business_date = d.business_date
    left join liquidations as l on l.liquidation_id = d.liquidation_id
    left join calendar as c on c.business_date = d.business_date
    left join reserve_balances as prev_r on prev_r.business_date = c.previous_business_date
    left join reserve_balances as r on r.business_date = d.business_date
),

reserve as (
    select
        *,
        greatest(
            reserve_previous_close
            - coalesce(sum(compensation) over (
                partition by business_date order by default_seq rows between unbounded preceding and 1 preceding
              ), 0),
            0
        ) as reserve_available
    from joined
)

select
    default_event_id,
    account_id,
    client_id,
    group_id,
    kyc_tier,
    liquidation_id,
    business_date,
    default_at,
    liquidation_triggered_at,
    liquidation_done_at,
    cast(default_seq as integer) as default_seq,
    cast(shortfall as decimal(18, 2)) as shortfall,
    cast(interest_charged as decimal(18, 2)) as interest_charged,
    cast(loan_repaid as decimal(18, 2)) as loan_repaid,
    cast(least(claim_principal, shortfall) as decimal(18, 2)) as claim_principal,
    cast(greatest(shortfall - claim_principal, 0) as decimal(18, 2)) as claim_interest,
    cast(compensation as decimal(18, 2)) as compensation,
    cast(write_off as decimal(18, 2)) as write_off,
    -- compensation covers unpaid interest first; the write-off takes the rest of the interest
    cast(least(compensation, greatest(shortfall - claim_principal, 0)) as decimal(18, 2)) as interest_compensated,
    cast(greatest(greatest(shortfall - claim_principal, 0) - compensation, 0) as decimal(18, 2)) as interest_written_off,
    cast(write_off - greatest(greatest(shortfall - claim_principal, 0) - compensation, 0) as decimal(18, 2)) as principal_written_off,
    cast(reserve_previous_close as decimal(18, 2)) as reserve_previous_close,
    cast(reserve_available as decimal(18, 2)) as reserve_available,
    cast(least(shortfall, reserve_available) as decimal(18, 2)) as expected_compensation
from reserve
