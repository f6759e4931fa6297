-- M11: one item per (end_to_end_id, custody account, currency): what the ledger and the capital
-- desk say custody should show (int_custody__expected_entries) against what it shows (counted
-- custody entries), as of the latest business date loaded.
--
-- A full table on purpose (not incremental by date): an item's state depends on its whole history
-- (custody may book an entry days after the ledger row, a break is cleared by a later correction or
-- reversal), so every run recomputes every item from all loaded days. Day-by-day history of the
-- same states is fct_reconciliation_daily.
{{ config(materialized='table') }}

with calendar as (
    select business_date from {{ ref('int_calendar__business_days') }}
),

as_of as (
    select max(business_date) as as_of_date from calendar
),

expected_all as (
    select * from {{ ref('int_custody__expected_entries') }}
),

-- expected amounts due by the as-of date; a capital row settling after it is not due yet
expected as (
    select
        e.end_to_end_id,
        e.custody_account,
        e.currency,
        cast(sum(case when e.expected_date <= a.as_of_date then e.expected_amount else 0 end) as decimal(18, 2))
            as expected_amount,
        sum(case when e.expected_date <= a.as_of_date then e.source_rows else 0 end) as expected_rows,
        min(case when e.expected_date <= a.as_of_date then e.expected_date end) as first_expected_date,
        max(case when e.expected_date <= a.as_of_date then e.expected_date end) as last_expected_date,
        min(e.expected_date) as first_scheduled_date
    from expected_all as e
    cross join as_of as a
    group by 1, 2, 3
),

expected_types as (
    select distinct end_to_end_id, custody_account, currency, source_types
    from expected_all
),

expected_type_lists as (
    select
        end_to_end_id,
        custody_account,
        currency,
        {{ dbt.listagg('source_types', "'/'", 'order by source_types') }} as source_types
    from expected_types
    group by 1, 2, 3
),

expected_first_row as (
    select end_to_end_id, custody_account, currency, source_feed, source_file, source_row
    from (
        select
            *,
            row_number() over (
                partition by end_to_end_id, custody_account, currency
                order by expected_date, source_feed, source_file
            ) as rn
        from expected_all
    ) as x
    where rn = 1
),

-- custody entries that count (booked, a repeat of an overlapping statement once) and carry an id;
-- entries without end_to_end_id cannot be matched by id: the landing contract treats them as a
-- warning and fct_reconciliation_daily counts them per day
custody as (
    select *
    from {{ ref('stg_custody__entries') }}
    where counts and end_to_end_id is not null
),

-- an original entry dated on a day without an expected row of its id is booked on the wrong date;
-- a reversal cancels an entry and is dated by its own booking, so it is not compared
expected_dates as (
    select distinct end_to_end_id, custody_account, currency, expected_date
    from expected_all
),

custody_flagged as (
    select
        c.*,
        not c.is_reversal and d.expected_date is null as is_off_date
    from custody as c
    left join expected_dates as d
        on d.end_to_end_id = c.end_to_end_id
        and d.custody_account = c.custody_account
        and d.currency = c.currency
        and d.expected_date = c.business_date
),

actual as (
    select
        end_to_end_id,
        custody_account,
        currency,
        cast(sum(signed_amount) as decimal(18, 2)) as actual_amount,
        count(*) as custody_entries,
        sum(case when is_reversal then 1 else 0 end) as reversal_entries,
        cast(sum(case when is_off_date then signed_amount else 0 end) as decimal(18, 2)) as off_date_amount,
        sum(case when is_off_date then 1 else 0 end) as off_date_entries,
        min(business_date) as first_custody_date,
        max(business_date) as last_custody_date
    from custody_flagged
    group by 1, 2, 3
),

actual_first_row as (
    select end_to_end_id, custody_account, currency, statement_id, source_file, source_row
    from (
        select
            *,
            row_number() over (
                partition by end_to_end_id, custody_account, currency
                -- a wrong-date entry is the one a reader needs to see first
                order by case when is_off_date then 0 else 1 end, business_date, source_file, source_row
            ) as rn
        from custody_flagged
    ) as x
    where rn = 1
),

keys as (
    select end_to_end_id, custody_account, currency from expected
    union
    select end_to_end_id, custody_account, currency from actual
),

joined as (
    select
        k.end_to_end_id,
        k.custody_account,
        k.currency,
        coalesce(e.expected_rows, 0) as expected_rows,
        coalesce(a.custody_entries, 0) as custody_entries,
        cast(coalesce(e.expected_amount, 0) as decimal(18, 2)) as expected_amount,
        cast(coalesce(a.actual_amount, 0) as decimal(18, 2)) as actual_amount,
        cast(coalesce(a.off_date_amount, 0) as decimal(18, 2)) as off_date_amount,
        coalesce(a.off_date_entries, 0) as off_date_entries,
        coalesce(a.reversal_entries, 0) as reversal_entries,
        e.first_expected_date,
        e.last_expected_date,
        e.first_scheduled_date,
        a.first_custody_date,
        a.last_custody_date
    from keys as k
    left join expected as e
        on e.end_to_end_id = k.end_to_end_id and e.custody_account = k.custody_account and e.currency = k.currency
    left join actual as a
        on a.end_to_end_id = k.end_to_end_id and a.custody_account = k.custody_account and a.currency = k.currency
),

classified as (
    select
        *,
        cast(actual_amount - expected_amount as decimal(18, 2)) as difference,
        -- precedence: an unexplained entry, then a missing one, then the amount, then the date
        case
            when expected_rows = 0 and custody_entries = 0 then 'pending'
            when expected_rows = 0 then 'unmatched_entry'
            when custody_entries = 0 and expected_amount = 0 then 'matched'
            when custody_entries = 0 then 'missing_entry'
            when abs(actual_amount - expected_amount)
                > cast({{ var('reconciliation_tolerance', 0) }} as decimal(18, 2)) then 'amount_break'
            when off_date_entries > 0 then 'date_mismatch'
            else 'matched'
        end as status
    from joined
),

-- business-day index: age = business dates after the first date up to the as-of date
day_index as (
    select business_date, row_number() over (order by business_date) as day_number
    from calendar
),

dated as (
    select
        c.*,
        case
            when c.first_expected_date is null then c.first_custody_date
            when c.first_custody_date is null then c.first_expected_date
            when c.first_custody_date < c.first_expected_date then c.first_custody_date
            else c.first_expected_date
        end as first_date
    from classified as c
)

select
    d.end_to_end_id,
    d.custody_account,
    d.currency,
    coalesce(t.source_types, 'NONE') as source_types,
    d.status,
    d.expected_amount,
    d.actual_amount,
    d.difference,
    cast(case d.status
        when 'unmatched_entry' then abs(d.actual_amount)
        when 'missing_entry' then abs(d.expected_amount)
        when 'amount_break' then abs(d.difference)
        when 'date_mismatch' then abs(d.off_date_amount)
        else 0
    end as decimal(18, 2)) as break_amount,
    d.status not in ('matched', 'pending') as is_break,
    cast(d.expected_rows as bigint) as expected_rows,
    cast(d.custody_entries as bigint) as custody_entries,
    cast(d.reversal_entries as bigint) as reversal_entries,
    cast(d.off_date_entries as bigint) as off_date_entries,
    d.first_expected_date,
    d.last_expected_date,
    d.first_custody_date,
    d.last_custody_date,
    coalesce(d.first_date, d.first_scheduled_date) as first_date,
    a.as_of_date,
    cast(case when d.status not in ('matched', 'pending')
        then ia.day_number - coalesce(i0.day_number, 0) end as integer) as age_business_days,
    ef.source_feed as expected_source_feed,
    ef.source_file as expected_source_file,
    ef.source_row as expected_source_row,
    af.statement_id as custody_statement_id,
    af.source_file as custody_source_file,
    af.source_row as custody_source_row
from dated as d
cross join as_of as a
left join expected_type_lists as t
    on t.end_to_end_id = d.end_to_end_id and t.custody_account = d.custody_account and t.currency = d.currency
left join expected_first_row as ef
    on ef.end_to_end_id = d.end_to_end_id and ef.custody_account = d.custody_account and ef.currency = d.currency
left join actual_first_row as af
    on af.end_to_end_id = d.end_to_end_id and af.custody_account = d.custody_account and af.currency = d.currency
left join day_index as ia on ia.business_date = a.as_of_date
-- the last business date on or before the first date (a first date between landing dates ages from there)
left join (
    select d2.end_to_end_id, d2.custody_account, d2.currency, max(i.day_number) as day_number
    from dated as d2
    inner join day_index as i on i.business_date <= d2.first_date
    group by 1, 2, 3
) as i0
    on i0.end_to_end_id = d.end_to_end_id and i0.custody_account = d.custody_account and i0.currency = d.currency
