-- M8 per business date × scenario × beneficial-owner group: the group's stress loss (Σ of its
-- accounts', int_stress__account_losses), its equity E_g = Σ E_i at the close and
-- shortfall_g = max(0, loss_g − E_g). Affiliates count as one: a member's positive equity absorbs
-- another member's loss. Groups with a loan, an open position or negative equity at the close.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='fail') }}

with accounts as (
    select business_date, account_id, group_id, loan_principal, gross_exposure, equity
    from {{ ref('int_accounts__daily') }}
    where true
    {{ in_window('business_date') }}
),

groups as (
    select
        business_date,
        group_id,
        count(*) as accounts,
        sum(loan_principal) as loans,
        sum(gross_exposure) as gross_exposure,
        sum(equity) as equity
    from accounts
    group by 1, 2
    having sum(loan_principal) > 0 or sum(gross_exposure) > 0 or sum(equity) < 0
),

losses as (
    select
        business_date,
        scenario_id,
        group_id,
        sum(long_market_value) as long_market_value,
        sum(stress_loss) as stress_loss,
        max(case when is_defaulting then 1 else 0 end) = 1 as is_defaulting
    from {{ ref('int_stress__account_losses') }}
    where true
    {{ in_window('business_date') }}
    group by 1, 2, 3
),

scenarios as (
    select scenario_id, scenario_type from {{ ref('stress_scenarios') }}
),

stressed as (
    select
        g.business_date,
        s.scenario_id,
        s.scenario_type,
        g.group_id,
        g.accounts,
        g.loans,
        g.gross_exposure,
        coalesce(l.long_market_value, 0) as long_market_value,
        g.equity,
        coalesce(l.stress_loss, 0) as stress_loss,
        coalesce(l.is_defaulting, false) as is_defaulting,
        greatest(coalesce(l.stress_loss, 0) - g.equity, 0) as shortfall
    from groups as g
    cross join scenarios as s
    left join losses as l
        on l.business_date = g.business_date and l.scenario_id = s.scenario_id and l.group_id = g.group_id
)

select
    cast(business_date as date) as business_date,
    scenario_id as scenario_id,
    scenario_type as scenario_type,
    group_id as group_id,
    cast(accounts as integer) as accounts,
    cast({{ round_half_even('loans', 2) }} as decimal(18, 2)) as loans,
    cast({{ round_half_even('gross_exposure', 2) }} as decimal(18, 2)) as gross_exposure,
    cast({{ round_half_even('long_market_value', 2) }} as decimal(18, 2)) as long_market_value,
    cast({{ round_half_even('equity', 2) }} as decimal(18, 2)) as equity,
    cast({{ round_half_even('stress_loss', 2) }} as decimal(18, 2)) as stress_loss,
    cast({{ round_half_even('shortfall', 2) }} as decimal(18, 2)) as shortfall,
    cast(is_defaulting as boolean) as is_defaulting,
    -- rank 1 = Cover-1 group, ranks 1–2 = Cover-2 groups (ties by group_id)
    cast(row_number() over (partition by business_date, scenario_id order by shortfall desc, group_id) as integer)
        as shortfall_rank
from stressed
