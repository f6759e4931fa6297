-- Gate (SPEC §5 cross-feed, referential integrity): every fill names an account of that day's
-- accounts.csv snapshot and a symbol of that day's instruments.csv. A day without a snapshot uses
-- the latest earlier one, as the landing contract check does. One row per offending fill and rule.
{{ config(severity='error', tags=['gate', 'cross_feed'],
          meta={'dagster': {'ref': {'name': 'stg_trading__fills'}}}) }}

with fills as (
    select fill_id, account_id, symbol, business_date, source_file, source_row
    from {{ ref('stg_trading__fills') }}
    where true {{ gate_window('business_date') }}
),

accounts as (
    select account_id, snapshot_date from {{ ref('stg_reference__accounts') }}
),

instruments as (
    select symbol, snapshot_date from {{ ref('stg_reference__instruments') }}
),

fill_days as (
    select distinct business_date from fills
),

-- the snapshot in force on a day: that day's, else the latest before it
account_snapshot as (
    select d.business_date, max(s.snapshot_date) as snapshot_date
    from fill_days as d
    inner join (select distinct snapshot_date from accounts) as s on s.snapshot_date <= d.business_date
    group by 1
),

instrument_snapshot as (
    select d.business_date, max(s.snapshot_date) as snapshot_date
    from fill_days as d
    inner join (select distinct snapshot_date from instruments) as s on s.snapshot_date <= d.business_date
    group by 1
),

unknown_accounts as (
    select
        'trades' as feed,
        f.source_file,
        f.source_row,
        'ref.account' as rule,
        {{ dbt.concat(["'fill '", "f.fill_id", "': account_id '''", "f.account_id",
                       "''' not in accounts.csv of '",
                       "coalesce(cast(s.snapshot_date as " ~ dbt.type_string() ~ "), '(no snapshot)')"]) }} as detail
    from fills as f
    left join account_snapshot as s on s.business_date = f.business_date
    left join accounts as a on a.snapshot_date = s.snapshot_date and a.account_id = f.account_id
    where a.account_id is null
),

unknown_symbols as (
    select
        'trades' as feed,
        f.source_file,
        f.source_row,
        'ref.instrument' as rule,
        {{ dbt.concat(["'fill '", "f.fill_id", "': symbol '''", "f.symbol",
                       "''' not in instruments.csv of '",
                       "coalesce(cast(s.snapshot_date as " ~ dbt.type_string() ~ "), '(no snapshot)')"]) }} as detail
    from fills as f
    left join instrument_snapshot as s on s.business_date = f.business_date
    left join instruments as i on i.snapshot_date = s.snapshot_date and i.symbol = f.symbol
    where i.symbol is null
)

select * from unknown_accounts
union all
select * from unknown_symbols
