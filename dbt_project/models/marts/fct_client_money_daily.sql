-- M10 client-money coverage: custody closing balance of CLIENT_MARGIN_POOL against what the ledger
-- says the platform owes its clients (Σ client cash_i), per business date and currency.
--
-- cash_i in int_accounts__daily has no currency (it sums every client ledger row), so the ledger side
-- is summed here per currency from the same rows (stg_ledger__entries.cash_effect of client rows);
-- a data test holds Σ over currencies equal to Σ cash_i of int_accounts__daily every date.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date', on_schema_change='append_new_columns') }}

with calendar as (
    select business_date from {{ ref('int_calendar__business_days') }}
),

custody as (
    select business_date, currency, closing_balance, statement_id
    from {{ ref('int_custody__balances_daily') }}
    where custody_account = 'CLIENT_MARGIN_POOL'
),

client_flows as (
    select business_date, currency, sum(cash_effect) as cash_flow
    from {{ ref('stg_ledger__entries') }}
    where not is_platform_entry
    group by 1, 2
),

currencies as (
    select distinct currency from client_flows
    union
    select distinct currency from custody
),

-- running Σ needs every date of the history, not only the window's; the window filters the output
client_cash as (
    select
        c.business_date,
        cur.currency,
        sum(coalesce(f.cash_flow, 0)) over (
            partition by cur.currency order by c.business_date rows between unbounded preceding and current row
        ) as client_cash
    from calendar as c
    cross join currencies as cur
    left join client_flows as f on f.business_date = c.business_date and f.currency = cur.currency
),

joined as (
    select
        l.business_date,
        l.currency,
        k.statement_id,
        k.closing_balance as custody_balance,
        cast(l.client_cash as decimal(18, 2)) as client_cash
    from client_cash as l
    left join custody as k on k.business_date = l.business_date and k.currency = l.currency
)

select
    j.business_date,
    j.currency,
    j.statement_id,
    j.custody_balance,
    j.client_cash,
    cast(j.custody_balance - j.client_cash as decimal(18, 2)) as break_amount,
    {{ safe_ratio('j.custody_balance', 'j.client_cash') }} as coverage_ratio,
    -- a missing custody statement is a break too (nothing at custody to cover the ledger)
    coalesce(j.custody_balance <> j.client_cash, true) as has_break
from joined as j
where true {{ in_window('j.business_date') }}
