-- Gate (SPEC §5 "reconciliation within tolerance", M11): no reconciliation item is an unexplained
-- custody entry, a missing entry, a date mismatch, or an amount break beyond var
-- reconciliation_tolerance (default 0.00, so any difference fails). A custody-side item names the
-- custody entry (an off-date entry first); a missing entry names the ledger/capital row.
{{ config(severity='error', tags=['gate', 'reconciliation']) }}

select
    case when status = 'missing_entry' then expected_source_feed else 'custody_entries' end as feed,
    case when status = 'missing_entry' then expected_source_file else custody_source_file end as source_file,
    case when status = 'missing_entry' then expected_source_row else custody_source_row end as source_row,
    {{ dbt.concat(["'custody.'", "status"]) }} as rule,
    {{ dbt.concat(["''''", "end_to_end_id", "''' on '", "custody_account", "' ('", "source_types", "'): expected '",
                   "cast(expected_amount as " ~ dbt.type_string() ~ ")", "' '", "currency", "', custody '",
                   "cast(actual_amount as " ~ dbt.type_string() ~ ")", "', difference '",
                   "cast(difference as " ~ dbt.type_string() ~ ")",
                   "case when status = 'date_mismatch' then " ~ dbt.concat(["', custody on '", "cast(last_custody_date as " ~ dbt.type_string() ~ ")", "' vs expected '", "cast(first_expected_date as " ~ dbt.type_string() ~ ")"]) ~ " else '' end",
                   "'; open since '", "cast(first_date as " ~ dbt.type_string() ~ ")", "', '",
                   "cast(age_business_days as " ~ dbt.type_string() ~ ")", "' business day(s)'"]) }} as detail
from {{ ref('fct_reconciliation_items') }}
where (status in ('unmatched_entry', 'missing_entry', 'date_mismatch')
    or (status = 'amount_break'
        and abs(difference) > cast({{ var('reconciliation_tolerance', 0) }} as decimal(18, 2))))
    -- an item belongs to the window when its dates (expected or in custody) overlap it
    {{ gate_window_overlaps('first_date', 'coalesce(greatest(last_expected_date, last_custody_date), last_expected_date, last_custody_date, first_date)') }}
