-- Gate (SPEC §1.1, §2 ledger vs fills): per account and business date, the TRADE_SETTLEMENT row =
-- sells − buys notional of the day's fills (summed exactly, then rounded half-even to 0.01), the FEE
-- row ≥ the day's commissions, at most one row of each, and the day's rows of each type share one
-- end_to_end_id (custody books one net entry for them). A day's fills without their row fail too.
{{ config(severity='error', tags=['gate', 'cross_feed'],
          meta={'dagster': {'ref': {'name': 'stg_ledger__entries'}}}) }}

with fills as (
    select
        account_id,
        business_date,
        sum(cash_effect) as net_notional,
        sum(commission) as commissions,
        min(source_file) as source_file
    from {{ ref('stg_trading__fills') }}
    where true {{ gate_window('business_date') }}
    group by 1, 2
),

ledger as (
    select
        entry_id, account_id, entry_type, amount, end_to_end_id, landed_business_date as business_date,
        source_file, source_row,
        row_number() over (
            partition by account_id, entry_type, landed_business_date
            order by source_file, cast(source_row as {{ dbt.type_bigint() }})
        ) as row_of_day
    from {{ ref('stg_ledger__entries') }}
    where entry_type in ('TRADE_SETTLEMENT', 'FEE')
        {{ gate_window('landed_business_date') }}
),

per_account as (
    select
        account_id,
        business_date,
        entry_type,
        count(*) as rows_of_day,
        sum(amount) as amount,
        max(case when row_of_day = 1 then source_file end) as source_file,
        max(case when row_of_day = 1 then source_row end) as source_row,
        max(case when row_of_day = 2 then source_row end) as second_row
    from ledger
    group by 1, 2, 3
),

settlement as (
    select
        coalesce(f.account_id, l.account_id) as account_id,
        coalesce(f.business_date, l.business_date) as business_date,
        {{ round_half_even('coalesce(f.net_notional, 0)', 2) }} as fills_net,
        l.amount,
        l.source_file,
        l.source_row,
        f.source_file as fills_file
    from fills as f
    full outer join (select * from per_account where entry_type = 'TRADE_SETTLEMENT') as l
        on l.account_id = f.account_id and l.business_date = f.business_date
),

fees as (
    select
        f.account_id,
        f.business_date,
        f.commissions,
        l.amount,
        l.source_file,
        l.source_row,
        f.source_file as fills_file
    from fills as f
    left join (select * from per_account where entry_type = 'FEE') as l
        on l.account_id = f.account_id and l.business_date = f.business_date
),

shared_ids as (
    select
        entry_type,
        business_date,
        count(distinct end_to_end_id) as ids,
        min(source_file) as source_file
    from ledger
    group by 1, 2
    having count(distinct end_to_end_id) > 1
)

select
    case when amount is null then 'trades' else 'ledger_entries' end as feed,
    coalesce(source_file, fills_file) as source_file,
    coalesce(source_row, '-') as source_row,
    'ledger.trade_settlement' as rule,
    case when amount is null
        then {{ dbt.concat(["account_id", "' on '", "cast(business_date as " ~ dbt.type_string() ~ ")",
                            "': fills net '", "cast(fills_net as " ~ dbt.type_string() ~ ")",
                            "' (sells - buys) but no TRADE_SETTLEMENT row'"]) }}
        else {{ dbt.concat(["account_id", "' on '", "cast(business_date as " ~ dbt.type_string() ~ ")",
                            "': TRADE_SETTLEMENT '", "cast(amount as " ~ dbt.type_string() ~ ")",
                            "' != fills sells - buys '", "cast(fills_net as " ~ dbt.type_string() ~ ")"]) }}
    end as detail
from settlement
where (amount is null and fills_net <> 0) or amount <> fills_net

union all

select
    case when amount is null then 'trades' else 'ledger_entries' end as feed,
    coalesce(source_file, fills_file) as source_file,
    coalesce(source_row, '-') as source_row,
    'ledger.fee' as rule,
    case when amount is null
        then {{ dbt.concat(["account_id", "' on '", "cast(business_date as " ~ dbt.type_string() ~ ")",
                            "': commissions '", "cast(commissions as " ~ dbt.type_string() ~ ")", "' but no FEE row'"]) }}
        else {{ dbt.concat(["account_id", "' on '", "cast(business_date as " ~ dbt.type_string() ~ ")",
                            "': FEE '", "cast(amount as " ~ dbt.type_string() ~ ")",
                            "' < the day''s commissions '", "cast(commissions as " ~ dbt.type_string() ~ ")"]) }}
    end as detail
from fees
where (amount is null and commissions > 0) or amount < commissions

union all

select
    'ledger_entries' as feed,
    source_file,
    second_row as source_row,
    'ledger.one_row_per_day' as rule,
    {{ dbt.concat(["'second '", "entry_type", "' row for '", "account_id", "' on '",
                   "cast(business_date as " ~ dbt.type_string() ~ ")", "' (first on line '", "source_row", "')'"]) }} as detail
from per_account
where rows_of_day > 1

union all

select
    'ledger_entries' as feed,
    source_file,
    '-' as source_row,
    'ledger.shared_id' as rule,
    {{ dbt.concat(["entry_type", "' rows of '", "cast(business_date as " ~ dbt.type_string() ~ ")", "' carry '",
                   "cast(ids as " ~ dbt.type_string() ~ ")", "' end_to_end_ids (one per day expected)'"]) }} as detail
from shared_ids
