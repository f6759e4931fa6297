-- M11 balances: per custody statement (custody account × currency × business date), the opening
-- balance against the previous business day's closing, and the closing against opening + Σ counted
-- signed entries (booked; an entry repeated by an overlapping statement once).
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date', on_schema_change='append_new_columns') }}

with balances as (
    select * from {{ ref('int_custody__balances_daily') }}
    where true {{ in_window('business_date') }}
)

select
    statement_id,
    custody_account,
    currency,
    business_date,
    opening_balance,
    previous_business_date,
    previous_closing_balance,
    entries_total,
    cast(counted_entries as bigint) as counted_entries,
    closing_balance,
    cast(opening_balance + entries_total as decimal(18, 2)) as expected_closing_balance,
    -- NULL on the first business day (balances brought forward) or when the previous statement is missing
    cast(opening_balance - previous_closing_balance as decimal(18, 2)) as opening_break,
    cast(closing_balance - (opening_balance + entries_total) as decimal(18, 2)) as rollforward_break,
    coalesce(opening_balance <> previous_closing_balance, false)
        or coalesce(closing_balance <> opening_balance + entries_total, true) as has_break
from balances
