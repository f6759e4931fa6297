-- M11 by business date: the reconciliation as it stood at each date's close. An item (end_to_end_id
-- × custody account × currency, as in fct_reconciliation_items) changes state only on the dates it
-- has activity (an expected ledger/capital row or a counted custody entry), so its state at a date is
-- the one computed from everything up to its latest activity on or before that date. The same status
-- rule as fct_reconciliation_items (pending cannot occur here: an item exists from its first
-- activity); on the latest date the outstanding breaks equal that mart's breaks (a data test).
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date', on_schema_change='append_new_columns') }}

with calendar as (
    select business_date from {{ ref('int_calendar__business_days') }}
),

day_index as (
    select business_date, row_number() over (order by business_date) as day_number
    from calendar
),

expected as (
    select
        end_to_end_id,
        custody_account,
        currency,
        expected_date as activity_date,
        expected_amount,
        source_rows
    from {{ ref('int_custody__expected_entries') }}
),

expected_dates as (
    select distinct end_to_end_id, custody_account, currency, activity_date from expected
),

entries as (
    select * from {{ ref('stg_custody__entries') }}
),

-- counted custody entries carrying an id; an original booked on a day without an expected row of
-- its id is off-date (a reversal is dated by its own booking and not compared)
custody as (
    select
        c.end_to_end_id,
        c.custody_account,
        c.currency,
        c.business_date as activity_date,
        c.signed_amount,
        not c.is_reversal and d.activity_date is null as is_off_date
    from entries as c
    left join expected_dates as d
        on d.end_to_end_id = c.end_to_end_id
        and d.custody_account = c.custody_account
        and d.currency = c.currency
        and d.activity_date = c.business_date
    where c.counts and c.end_to_end_id is not null
),

activity as (
    select
        end_to_end_id, custody_account, currency, activity_date,
        expected_amount, source_rows as expected_rows,
        cast(0 as decimal(18, 2)) as actual_amount, 0 as custody_entries,
        cast(0 as decimal(18, 2)) as off_date_amount, 0 as off_date_entries
    from expected
    union all
    select
        end_to_end_id, custody_account, currency, activity_date,
        cast(0 as decimal(18, 2)), 0,
        signed_amount, 1,
        case when is_off_date then signed_amount else cast(0 as decimal(18, 2)) end,
        case when is_off_date then 1 else 0 end
    from custody
),

per_day as (
    select
        end_to_end_id,
        custody_account,
        currency,
        activity_date,
        sum(expected_amount) as expected_amount,
        sum(expected_rows) as expected_rows,
        sum(actual_amount) as actual_amount,
        sum(custody_entries) as custody_entries,
        sum(off_date_amount) as off_date_amount,
        sum(off_date_entries) as off_date_entries
    from activity
    group by 1, 2, 3, 4
),

cumulative as (
    select
        end_to_end_id,
        custody_account,
        currency,
        activity_date,
        min(activity_date) over w_all as first_date,
        lead(activity_date) over w_next as next_activity_date,
        sum(expected_amount) over w_run as expected_amount,
        sum(expected_rows) over w_run as expected_rows,
        sum(actual_amount) over w_run as actual_amount,
        sum(custody_entries) over w_run as custody_entries,
        sum(off_date_amount) over w_run as off_date_amount,
        sum(off_date_entries) over w_run as off_date_entries
    from per_day
    window
        w_all as (partition by end_to_end_id, custody_account, currency),
        w_next as (partition by end_to_end_id, custody_account, currency order by activity_date),
        w_run as (partition by end_to_end_id, custody_account, currency order by activity_date
                  rows between unbounded preceding and current row)
),

-- the status rule of fct_reconciliation_items, applied to the state at each activity date
states as (
    select
        *,
        case
            when expected_rows = 0 then 'unmatched_entry'
            when custody_entries = 0 and expected_amount = 0 then 'matched'
            when custody_entries = 0 then 'missing_entry'
            when abs(actual_amount - expected_amount)
                > cast({{ var('reconciliation_tolerance', 0) }} as decimal(18, 2)) then 'amount_break'
            when off_date_entries > 0 then 'date_mismatch'
            else 'matched'
        end as status
    from cumulative
),

valued as (
    select
        *,
        cast(case status
            when 'unmatched_entry' then abs(actual_amount)
            when 'missing_entry' then abs(expected_amount)
            when 'amount_break' then abs(actual_amount - expected_amount)
            when 'date_mismatch' then abs(off_date_amount)
            else 0
        end as decimal(18, 2)) as break_amount
    from states
),

-- items with activity on the date, by their state at the date's close
touched as (
    select
        activity_date as business_date,
        count(*) as items_touched,
        sum(case when status = 'matched' then 1 else 0 end) as matched_items,
        sum(case when status = 'matched' then abs(expected_amount) else 0 end) as matched_amount,
        sum(case when status = 'unmatched_entry' then 1 else 0 end) as unmatched_entry_items,
        sum(case when status = 'unmatched_entry' then break_amount else 0 end) as unmatched_entry_amount,
        sum(case when status = 'missing_entry' then 1 else 0 end) as missing_entry_items,
        sum(case when status = 'missing_entry' then break_amount else 0 end) as missing_entry_amount,
        sum(case when status = 'amount_break' then 1 else 0 end) as amount_break_items,
        sum(case when status = 'amount_break' then break_amount else 0 end) as amount_break_amount,
        sum(case when status = 'date_mismatch' then 1 else 0 end) as date_mismatch_items,
        sum(case when status = 'date_mismatch' then break_amount else 0 end) as date_mismatch_amount
    from valued
    group by 1
),

-- business-day number of an item's first date (the last business date on or before it), so that
-- age = business dates after the first date up to the date
first_index as (
    select f.first_date, max(i.day_number) as day_number
    from (select distinct first_date from valued where status <> 'matched') as f
    inner join day_index as i on i.business_date <= f.first_date
    group by 1
),

-- every break state holds from its activity date until the item's next activity: one row per
-- business date it is outstanding (only breaks are expanded, so clean data adds nothing)
outstanding as (
    select
        c.business_date,
        v.break_amount,
        v.first_date,
        ic.day_number - coalesce(f.day_number, 0) as age_business_days
    from valued as v
    inner join calendar as c
        on c.business_date >= v.activity_date
        and (v.next_activity_date is null or c.business_date < v.next_activity_date)
    inner join day_index as ic on ic.business_date = c.business_date
    left join first_index as f on f.first_date = v.first_date
    where v.status <> 'matched'
),

outstanding_daily as (
    select
        business_date,
        count(*) as breaks_outstanding,
        sum(break_amount) as breaks_outstanding_amount,
        max(age_business_days) as oldest_break_age_business_days,
        min(first_date) as oldest_break_first_date
    from outstanding
    group by 1
),

-- custody entries of the date that reconciliation cannot use or counts once
entry_stats as (
    select
        business_date,
        sum(case when counts then 1 else 0 end) as custody_entries_counted,
        sum(case when counts and end_to_end_id is null then 1 else 0 end) as entries_without_e2e,
        sum(case when counts and end_to_end_id is null then abs(signed_amount) else 0 end) as entries_without_e2e_amount,
        sum(case when status <> 'BOOK' then 1 else 0 end) as not_booked_entries,
        sum(case when is_repeated then 1 else 0 end) as repeated_entries,
        sum(case when counts and is_reversal then 1 else 0 end) as reversal_entries
    from entries
    group by 1
)

select
    c.business_date,
    cast(coalesce(t.items_touched, 0) as bigint) as items_touched,
    cast(coalesce(t.matched_items, 0) as bigint) as matched_items,
    cast(coalesce(t.matched_amount, 0) as decimal(18, 2)) as matched_amount,
    cast(coalesce(t.unmatched_entry_items, 0) as bigint) as unmatched_entry_items,
    cast(coalesce(t.unmatched_entry_amount, 0) as decimal(18, 2)) as unmatched_entry_amount,
    cast(coalesce(t.missing_entry_items, 0) as bigint) as missing_entry_items,
    cast(coalesce(t.missing_entry_amount, 0) as decimal(18, 2)) as missing_entry_amount,
    cast(coalesce(t.amount_break_items, 0) as bigint) as amount_break_items,
    cast(coalesce(t.amount_break_amount, 0) as decimal(18, 2)) as amount_break_amount,
    cast(coalesce(t.date_mismatch_items, 0) as bigint) as date_mismatch_items,
    cast(coalesce(t.date_mismatch_amount, 0) as decimal(18, 2)) as date_mismatch_amount,
    cast(coalesce(o.breaks_outstanding, 0) as bigint) as breaks_outstanding,
    cast(coalesce(o.breaks_outstanding_amount, 0) as decimal(18, 2)) as breaks_outstanding_amount,
    cast(o.oldest_break_age_business_days as integer) as oldest_break_age_business_days,
    o.oldest_break_first_date,
    cast(coalesce(s.custody_entries_counted, 0) as bigint) as custody_entries_counted,
    cast(coalesce(s.entries_without_e2e, 0) as bigint) as entries_without_e2e,
    cast(coalesce(s.entries_without_e2e_amount, 0) as decimal(18, 2)) as entries_without_e2e_amount,
    cast(coalesce(s.not_booked_entries, 0) as bigint) as not_booked_entries,
    cast(coalesce(s.repeated_entries, 0) as bigint) as repeated_entries,
    cast(coalesce(s.reversal_entries, 0) as bigint) as reversal_entries
from calendar as c
left join touched as t on t.business_date = c.business_date
left join outstanding_daily as o on o.business_date = c.business_date
left join entry_stats as s on s.business_date = c.business_date
where true {{ in_window('c.business_date') }}
