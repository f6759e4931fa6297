-- Gate (SPEC §5, §2): a statement's closing balance (CLBD) = opening (OPBD) + Σ of its counted signed
-- entries (booked; an entry repeated by an overlapping statement counts once; signs from CdtDbtInd
-- alone). A statement missing a balance is reported by assert_custody_statements_complete.
{{ config(severity='error', tags=['gate', 'cross_feed', 'custody']) }}

select
    'custody_balances' as feed,
    closing_source_file as source_file,
    closing_source_row as source_row,
    'custody.rollforward' as rule,
    {{ dbt.concat(["custody_account", "' '", "statement_id", "': opening '",
                   "cast(opening_balance as " ~ dbt.type_string() ~ ")", "' + entries '",
                   "cast(entries_total as " ~ dbt.type_string() ~ ")", "' = '",
                   "cast(opening_balance + entries_total as " ~ dbt.type_string() ~ ")", "', closing says '",
                   "cast(closing_balance as " ~ dbt.type_string() ~ ")"]) }} as detail
from {{ ref('int_custody__balances_daily') }}
where opening_balance is not null
    and closing_balance is not null
    and closing_balance <> opening_balance + entries_total
    {{ gate_window('business_date') }}
