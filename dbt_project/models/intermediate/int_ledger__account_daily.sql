-- Ledger flows per client account and business date, and their running totals:
-- cash_i (SPEC §1.1) and the loan principal L_i. DEFAULT_COMPENSATION and WRITE_OFF settle the claim
-- S = L + unpaid interest: they reduce unpaid interest first, then principal (SPEC §1.2), so the
-- principal never goes below zero and what goes past it is interest written off.
with accounts as (
    select account_id, min(snapshot_date) as first_seen
    from {{ ref('stg_reference__accounts') }}
    group by 1
),

flows as (
    select
        account_id,
        business_date,
        sum(cash_effect) as cash_flow,
        sum(principal_flow) as principal_flow,
        sum(claim_settled) as claim_settled,
        sum(interest_charged) as interest_charged,
        sum(case when entry_type = 'DEPOSIT' then amount else 0 end) as deposits,
        sum(case when entry_type = 'WITHDRAWAL' then amount else 0 end) as withdrawals,
        sum(case when entry_type = 'LOAN_DRAW' then amount else 0 end) as loan_draws,
        sum(case when entry_type = 'LOAN_REPAY' then amount else 0 end) as loan_repayments,
        sum(case when entry_type = 'DEFAULT_COMPENSATION' then amount else 0 end) as default_compensation,
        sum(case when entry_type = 'WRITE_OFF' then amount else 0 end) as write_off,
        sum(case when entry_type = 'PERFORMANCE_FEE' then amount else 0 end) as performance_fees,
        sum(case when entry_type = 'FEE' then amount else 0 end) as fees
    from {{ ref('stg_ledger__entries') }}
    where not is_platform_entry
    group by 1, 2
),

grid as (
    select a.account_id, c.business_date
    from accounts as a
    inner join {{ ref('int_calendar__business_days') }} as c on c.business_date >= a.first_seen
),

running as (
    select
        g.account_id,
        g.business_date,
        coalesce(f.cash_flow, 0) as cash_flow,
        coalesce(f.principal_flow, 0) as principal_flow,
        coalesce(f.claim_settled, 0) as claim_settled,
        coalesce(f.interest_charged, 0) as interest_charged,
        coalesce(f.deposits, 0) as deposits,
        coalesce(f.withdrawals, 0) as withdrawals,
        coalesce(f.loan_draws, 0) as loan_draws,
        coalesce(f.loan_repayments, 0) as loan_repayments,
        coalesce(f.default_compensation, 0) as default_compensation,
        coalesce(f.write_off, 0) as write_off,
        coalesce(f.performance_fees, 0) as performance_fees,
        coalesce(f.fees, 0) as fees,
        sum(coalesce(f.cash_flow, 0)) over w as cash,
        sum(coalesce(f.principal_flow, 0) - coalesce(f.claim_settled, 0)) over w as principal_running
    from grid as g
    left join flows as f on f.account_id = g.account_id and f.business_date = g.business_date
    window w as (partition by g.account_id order by g.business_date rows between unbounded preceding and current row)
)

select
    account_id,
    business_date,
    cash_flow,
    principal_flow,
    claim_settled,
    interest_charged,
    deposits,
    withdrawals,
    loan_draws,
    loan_repayments,
    default_compensation,
    write_off,
    performance_fees,
    fees,
    cast(cash as decimal(18, 2)) as cash,
    cast(greatest(principal_running, 0) as decimal(18, 2)) as loan_principal,
    -- the part of a claim settlement (compensation + write-off) that went past the principal: the
    -- unpaid interest it settled (M12 "written off" is only the write-off's share: int_defaults__settlements)
    cast(
        greatest(-principal_running, 0)
        - greatest(-coalesce(lag(principal_running) over (partition by account_id order by business_date), 0), 0)
    as decimal(18, 2)) as claim_interest_settled
from running
