-- The state of every client account at each business date's close (SPEC §1):
-- cash_i, MV_i, G_i, L_i, A_i, E_i = cash + MV − L − A, m = E/G, λ = G/E (E > 0), MR = (cash + MV)/(L + A).
with ledger as (
    select * from {{ ref('int_ledger__account_daily') }}
),

accruals as (
    select account_id, business_date, sum(accrual) as accrual
    from {{ ref('int_interest__accruals') }}
    group by 1, 2
),

positions as (
    select
        account_id,
        business_date,
        sum(market_value) as market_value,
        sum(gross_exposure) as gross_exposure,
        count(*) as open_positions
    from {{ ref('int_positions__daily') }}
    group by 1, 2
),

interest as (
    -- A_i = accrued − charged − written off within the current loan; a fully repaid or defaulted
    -- loan closes with A = 0 (the sub-cent remainder is dropped, SPEC §1.2)
    select
        l.*,
        coalesce(a.accrual, 0) as accrual,
        sum(coalesce(a.accrual, 0) - l.interest_charged - l.claim_interest_settled) over w as net_accrued_running
    from ledger as l
    left join accruals as a on a.account_id = l.account_id and a.business_date = l.business_date
    window w as (partition by l.account_id order by l.business_date rows between unbounded preceding and current row)
),

with_baseline as (
    select
        *,
        last_value(case when loan_principal = 0 then net_accrued_running end ignore nulls) over (
            partition by account_id order by business_date rows between unbounded preceding and current row
        ) as closed_loan_baseline
    from interest
),

state as (
    select
        b.account_id,
        b.business_date,
        r.client_id,
        r.group_id,
        r.kyc_tier,
        r.credit_score,
        r.leverage_tier,
        r.im_rate,
        r.warning_rate,
        r.mm_rate,
        r.interest_rate,
        r.opened_on,
        r.closed_on,
        b.cash,
        b.loan_principal,
        cast(case when b.loan_principal = 0 then 0
                  else b.net_accrued_running - coalesce(b.closed_loan_baseline, 0) end as decimal(38, 6)) as accrued_interest,
        b.accrual as interest_accrued_today,
        b.interest_charged,
        b.claim_interest_settled,
        cast(coalesce(p.market_value, 0) as decimal(38, 6)) as market_value,
        cast(coalesce(p.gross_exposure, 0) as decimal(38, 6)) as gross_exposure,
        coalesce(p.open_positions, 0) as open_positions,
        b.deposits,
        b.withdrawals,
        b.loan_draws,
        b.loan_repayments,
        b.default_compensation,
        b.write_off,
        b.performance_fees
    from with_baseline as b
    left join positions as p on p.account_id = b.account_id and p.business_date = b.business_date
    left join {{ ref('int_accounts__snapshot_ranges') }} as r
        on r.account_id = b.account_id and b.business_date between r.snapshot_date and r.valid_to
)

select
    *,
    cast(cash + market_value - loan_principal - accrued_interest as decimal(38, 6)) as equity,
    {{ safe_ratio('cash + market_value - loan_principal - accrued_interest', 'gross_exposure') }} as margin_ratio,
    case when cash + market_value - loan_principal - accrued_interest > 0
         then {{ safe_ratio('gross_exposure', 'cash + market_value - loan_principal - accrued_interest') }} end as leverage,
    {{ safe_ratio('cash + market_value', 'loan_principal + accrued_interest') }} as collateral_ratio,
    loan_principal > 0 as has_loan,
    closed_on is null or closed_on > business_date as is_open
from state
