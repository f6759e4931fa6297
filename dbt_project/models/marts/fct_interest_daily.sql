{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='append_new_columns') }}
-- M12 interest at each close: accrued = Σ L·r/360 over the calendar days the business date covers
-- (the weekend before a Monday included), charged (INTEREST), the unpaid interest of defaulted
-- loans covered by the reserve's compensation and written off (compensation takes unpaid interest
-- first, SPEC §1.2), the sub-cent remainder dropped when a loan is fully repaid or defaults, and
-- the outstanding ΣA. Roll-forward: opening + accrued − charged − compensated − written off −
-- dropped = outstanding.
with accruals as (
    select business_date, sum(accrual) as interest_accrued, count(distinct account_id) as accounts_accruing,
           count(*) as accrual_days
    from {{ ref('int_interest__accruals') }}
    group by 1
),

accounts as (
    select
        business_date,
        sum(accrued_interest) as interest_outstanding,
        sum(interest_charged) as interest_charged,
        sum(case when loan_principal = 0 and previous_loan_principal > 0 then 1 else 0 end) as loans_closed
    from (
        select
            *,
            lag(loan_principal) over (partition by account_id order by business_date) as previous_loan_principal
        from {{ ref('int_accounts__daily') }}
    ) as a
    group by 1
),

defaults as (
    select business_date, sum(interest_compensated) as interest_compensated, sum(interest_written_off) as interest_written_off
    from {{ ref('int_defaults__settlements') }}
    group by 1
),

daily as (
    select
        c.business_date,
        coalesce(a.interest_accrued, 0) as interest_accrued,
        coalesce(s.interest_charged, 0) as interest_charged,
        coalesce(d.interest_compensated, 0) as interest_compensated,
        coalesce(d.interest_written_off, 0) as interest_written_off,
        coalesce(s.interest_outstanding, 0) as interest_outstanding,
        coalesce(lag(s.interest_outstanding) over (order by c.business_date), 0) as interest_outstanding_opening,
        coalesce(a.accounts_accruing, 0) as accounts_accruing,
        coalesce(a.accrual_days, 0) as accrual_days,
        coalesce(s.loans_closed, 0) as loans_closed
    from {{ ref('int_calendar__business_days') }} as c
    left join accruals as a on a.business_date = c.business_date
    left join accounts as s on s.business_date = c.business_date
    left join defaults as d on d.business_date = c.business_date
)

select
    cast(business_date as date) as business_date,
    cast(interest_outstanding_opening as decimal(38, 6)) as interest_outstanding_opening,
    cast(interest_accrued as decimal(38, 6)) as interest_accrued,
    cast(interest_charged as decimal(18, 2)) as interest_charged,
    cast(interest_compensated as decimal(18, 2)) as interest_compensated,
    cast(interest_written_off as decimal(18, 2)) as interest_written_off,
    cast(interest_outstanding_opening + interest_accrued - interest_charged - interest_compensated
         - interest_written_off - interest_outstanding as decimal(38, 6)) as interest_dropped,
    cast(interest_outstanding as decimal(38, 6)) as interest_outstanding,
    cast(accounts_accruing as integer) as accounts_accruing,
    cast(accrual_days as integer) as accrual_days,
    cast(loans_closed as integer) as loans_closed
from daily
where true {{ in_window('business_date') }}
