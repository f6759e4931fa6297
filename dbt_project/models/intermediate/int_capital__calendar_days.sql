-- Every calendar day of the months the warehouse covers, with the business date whose close stands
-- for it (the last business date on or before it) and the loan book ΣL at that close. The income
-- waterfall sums capital and loans over calendar days (SPEC §1: coupons ACT/360 on average daily
-- balance), and a weekend or holiday carries the previous close.
with business_days as (
    select * from {{ ref('int_calendar__business_days') }}
),

months as (
    select
        month_start,
        max(business_date) as last_loaded,
        cast({{ dbt.last_day('month_start', 'month') }} as date) as month_end,
        -- a later month is already loaded: this one is over even if a holiday ends it early
        max(case when next_business_date is not null and next_business_date > {{ dbt.last_day('month_start', 'month') }}
                 then 1 else 0 end) = 1 as has_later_month
    from business_days
    group by 1
),

month_status as (
    select
        month_start,
        month_end,
        last_loaded,
        -- the month-end waterfall runs on the month's last business day; it is known to have run when
        -- the last weekday of the month is loaded or a later month is
        has_later_month or last_loaded >= {{ last_weekday_of_month('month_start') }} as is_month_complete
    from months
),

bounds as (
    select min(month_start) as first_day, max(month_end) as last_day from month_status
),

all_days as (
    {{ calendar_days('(select first_day from bounds)', '(select last_day from bounds)') }}
),

days as (
    -- an incomplete month stops at its last loaded business date (nothing is known after it)
    select
        a.day as calendar_day,
        m.month_start,
        m.month_end,
        m.is_month_complete,
        case when m.is_month_complete then m.last_loaded end as month_end_business_date,
        b.business_date is not null as is_business_date,
        max(b.business_date) over (order by a.day rows between unbounded preceding and current row) as as_of_business_date
    from all_days as a
    inner join month_status as m on cast({{ dbt.date_trunc('month', 'a.day') }} as date) = m.month_start
    left join business_days as b on b.business_date = a.day
    where a.day <= case when m.is_month_complete then m.month_end else m.last_loaded end
),

loan_book as (
    select
        business_date,
        sum(loan_principal) as total_loans,
        sum(case when has_loan then 1 else 0 end) as accounts_with_loan
    from {{ ref('int_accounts__daily') }}
    group by 1
)

select
    d.calendar_day,
    d.month_start,
    d.month_end,
    d.is_month_complete,
    d.month_end_business_date,
    d.is_business_date,
    d.as_of_business_date,
    -- before the first close the platform had no loans
    cast(coalesce(l.total_loans, 0) as decimal(18, 2)) as total_loans,
    cast(coalesce(l.accounts_with_loan, 0) as integer) as accounts_with_loan
from days as d
left join loan_book as l on l.business_date = d.as_of_business_date
