-- Gate (SPEC §2 "one statement per custody account and day", §5 feed complete): every business date
-- has a statement for each of the four custody accounts, exactly one, with one OPBD and one CLBD.
{{ config(severity='error', tags=['gate', 'cross_feed', 'custody'],
          meta={'dagster': {'ref': {'name': 'int_custody__balances_daily'}}}) }}

with custody_accounts as (
    select 'CLIENT_MARGIN_POOL' as custody_account
    union all select 'CAPITAL_POOL'
    union all select 'RISK_RESERVE'
    union all select 'PLATFORM_OPERATING'
),

balances as (
    select * from {{ ref('int_custody__balances_daily') }}
),

expected as (
    select c.business_date, a.custody_account
    from {{ ref('int_calendar__business_days') }} as c
    cross join custody_accounts as a
    where true {{ gate_window('c.business_date') }}
),

missing as (
    select
        'custody_entries' as feed,
        {{ dbt.concat(["cast(e.business_date as " ~ dbt.type_string() ~ ")", "'/custody'"]) }} as source_file,
        '-' as source_row,
        'custody.statement' as rule,
        {{ dbt.concat(["'no statement for '", "e.custody_account", "' on '",
                       "cast(e.business_date as " ~ dbt.type_string() ~ ")",
                       "' (one statement per custody account and day)'"]) }} as detail
    from expected as e
    left join (select distinct business_date, custody_account from balances) as b
        on b.business_date = e.business_date and b.custody_account = e.custody_account
    where b.custody_account is null
),

malformed as (
    select
        'custody_balances' as feed,
        coalesce(source_files, closing_source_file, opening_source_file,
                 {{ dbt.concat(["cast(business_date as " ~ dbt.type_string() ~ ")", "'/custody'"]) }}) as source_file,
        '-' as source_row,
        'custody.statement' as rule,
        {{ dbt.concat(["custody_account", "' '", "currency", "' on '", "cast(business_date as " ~ dbt.type_string() ~ ")",
                       "': '", "cast(statement_count as " ~ dbt.type_string() ~ ")", "' statement(s), '",
                       "cast(opening_rows as " ~ dbt.type_string() ~ ")", "' OPBD, '",
                       "cast(closing_rows as " ~ dbt.type_string() ~ ")", "' CLBD (needs exactly one of each)'"]) }} as detail
    from balances
    where (statement_count <> 1 or opening_rows <> 1 or closing_rows <> 1
        or custody_account not in (select custody_account from custody_accounts))
        {{ gate_window('business_date') }}
)

select * from missing
union all
select * from malformed
