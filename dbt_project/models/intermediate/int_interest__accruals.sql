-- Interest accrues on every calendar day on the principal outstanding at that day's end:
-- L · r / 360, rounded half-even to 6 dp (DECIMAL(38,6)), SPEC §1.1. A weekend day carries the
-- principal of the business date before it and is attributed to the business date after it.
with bounds as (
    select min(covers_from) as first_day, max(business_date) as last_day
    from {{ ref('int_calendar__business_days') }}
),

all_days as (
    {{ calendar_days('(select first_day from bounds)', '(select last_day from bounds)') }}
),

days as (
    select c.business_date, a.day as calendar_day
    from {{ ref('int_calendar__business_days') }} as c
    inner join all_days as a on a.day between c.covers_from and c.business_date
),

principal as (
    select l.account_id, l.business_date, l.loan_principal
    from {{ ref('int_ledger__account_daily') }} as l
),

rates as (
    -- the snapshot in force (a missing daily snapshot keeps the previous one)
    select account_id, snapshot_date, valid_to, interest_rate
    from {{ ref('int_accounts__snapshot_ranges') }}
),

-- principal at the end of each calendar day: the business date itself, or for the weekend days
-- before it, the previous business date's close
per_day as (
    select
        p.account_id,
        d.business_date,
        d.calendar_day,
        case
            when d.calendar_day = d.business_date then p.loan_principal
            else coalesce(prev.loan_principal, 0)
        end as principal,
        case when d.calendar_day = d.business_date then r.interest_rate else coalesce(rp.interest_rate, r.interest_rate) end
            as interest_rate
    from days as d
    inner join {{ ref('int_calendar__business_days') }} as c on c.business_date = d.business_date
    inner join principal as p on p.business_date = d.business_date
    left join principal as prev on prev.account_id = p.account_id and prev.business_date = c.previous_business_date
    left join rates as r
        on r.account_id = p.account_id and d.business_date between r.snapshot_date and r.valid_to
    left join rates as rp
        on rp.account_id = p.account_id and c.previous_business_date between rp.snapshot_date and rp.valid_to
)

select
    account_id,
    business_date,
    calendar_day,
    principal,
    interest_rate,
    {{ div_half_even('cast(principal as decimal(18,2)) * cast(interest_rate as decimal(18,10))', '360', 6) }} as accrual
from per_day
where principal > 0
