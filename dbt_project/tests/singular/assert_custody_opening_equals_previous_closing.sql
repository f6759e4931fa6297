-- Gate (SPEC §5 "custody balances roll forward", §2): a statement's opening balance (OPBD) equals
-- the same custody account's closing (CLBD) on the previous business day. The first business day
-- (balances brought forward) and a day after a missing statement (the completeness gate reports
-- it) have nothing to compare with.
{{ config(severity='error', tags=['gate', 'cross_feed', 'custody']) }}

select
    'custody_balances' as feed,
    opening_source_file as source_file,
    opening_source_row as source_row,
    'custody.opening' as rule,
    {{ dbt.concat(["custody_account", "' '", "currency", "' opening '",
                   "cast(opening_balance as " ~ dbt.type_string() ~ ")", "' on '",
                   "cast(business_date as " ~ dbt.type_string() ~ ")", "' != closing '",
                   "cast(previous_closing_balance as " ~ dbt.type_string() ~ ")", "' of '",
                   "cast(previous_business_date as " ~ dbt.type_string() ~ ")"]) }} as detail
from {{ ref('int_custody__balances_daily') }}
where previous_closing_balance is not null
    and opening_balance is not null
    and opening_balance <> previous_closing_balance
    {{ gate_window('business_date') }}
