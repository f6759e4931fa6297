-- M17 data-quality KPIs per feed (raw table) and business date: files and rows as landed
-- (raw.file_manifest), rows quarantined by rule (raw.quarantine), duplicates, the reconciliation
-- breaks of the date, and whether the feed is missing on a date other dates have it for.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date', on_schema_change='append_new_columns') }}

with manifest as (
    select * from {{ source('raw', 'file_manifest') }}
),

feeds as (
    select distinct feed from manifest
),

dates as (
    select distinct business_date from manifest
    union
    select business_date from {{ ref('int_calendar__business_days') }}
),

files as (
    select
        feed,
        business_date,
        count(*) as files,
        sum(rows_in_file) as rows_in_files,
        sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined,
        -- rows read but not loaded again: a custody statement delivered in XML and CSV loads once
        sum(rows_duplicate) as rows_duplicate,
        max(loaded_at) as last_loaded_at
    from manifest
    group by 1, 2
),

quarantine_counts as (
    select feed, business_date, rule, count(*) as n
    from {{ source('raw', 'quarantine') }}
    group by 1, 2, 3
),

-- the row rules of assets/ingest/rules.py, one column each; anything else lands in _other
quarantine as (
    select
        feed,
        business_date,
        sum(case when rule = 'value.required' then n else 0 end) as quarantined_value_required,
        sum(case when rule = 'value.type' then n else 0 end) as quarantined_value_type,
        sum(case when rule = 'value.money_dp' then n else 0 end) as quarantined_value_money_dp,
        sum(case when rule = 'value.range' then n else 0 end) as quarantined_value_range,
        sum(case when rule = 'value.enum' then n else 0 end) as quarantined_value_enum,
        sum(case when rule = 'value.currency' then n else 0 end) as quarantined_value_currency,
        sum(case when rule = 'time.offset' then n else 0 end) as quarantined_time_offset,
        sum(case when rule = 'time.business_date' then n else 0 end) as quarantined_time_business_date,
        sum(case when rule not in ('value.required', 'value.type', 'value.money_dp', 'value.range', 'value.enum',
                                   'value.currency', 'time.offset', 'time.business_date')
                 then n else 0 end) as quarantined_other,
        {{ dbt.listagg(dbt.concat(["rule", "'='", "cast(n as " ~ dbt.type_string() ~ ")"]), "', '", 'order by rule') }}
            as quarantine_rules
    from quarantine_counts
    group by 1, 2
),

-- rows whose key was already loaded (the later copy counts, on its own date): ids unique across
-- the tree for event feeds, keys unique inside one snapshot for reference and market feeds
keyed as (
    select 'trades' as feed, _business_date as business_date,
        row_number() over (partition by fill_id order by _business_date, _source_file, _source_row) as copy_number
    from {{ source('raw', 'trades') }}
    union all
    select 'ledger_entries', _business_date,
        row_number() over (partition by entry_id order by _business_date, _source_file, _source_row)
    from {{ source('raw', 'ledger_entries') }}
    union all
    select 'capital_events', _business_date,
        row_number() over (partition by event_id order by _business_date, _source_file, _source_row)
    from {{ source('raw', 'capital_events') }}
    union all
    select 'risk_events', _business_date,
        row_number() over (partition by event_id order by _business_date, _source_file, _source_row)
    from {{ source('raw', 'risk_events') }}
    union all
    select 'custody_entries', _business_date,
        row_number() over (partition by custody_account, entry_ref, tx_seq
                           order by _business_date, statement_id, _source_file, _source_row)
    from {{ source('raw', 'custody_entries') }}
    union all
    select 'custody_balances', _business_date,
        row_number() over (partition by statement_id, type order by _business_date, _source_file, _source_row)
    from {{ source('raw', 'custody_balances') }}
    union all
    select 'accounts', _business_date,
        row_number() over (partition by account_id, _business_date order by _source_file, _source_row)
    from {{ source('raw', 'accounts') }}
    union all
    select 'providers', _business_date,
        row_number() over (partition by provider_id, _business_date order by _source_file, _source_row)
    from {{ source('raw', 'providers') }}
    union all
    select 'instruments', _business_date,
        row_number() over (partition by symbol, _business_date order by _source_file, _source_row)
    from {{ source('raw', 'instruments') }}
    union all
    select 'market_prices', _business_date,
        row_number() over (partition by symbol, _business_date order by _source_file, _source_row)
    from {{ source('raw', 'market_prices') }}
),

duplicate_keys as (
    select feed, business_date, count(*) as duplicate_key_rows
    from keyed
    where copy_number > 1
    group by 1, 2
),

-- the custody feed is the one reconciled against the books: the date's breaks sit on its row
reconciliation as (
    select
        'custody_entries' as feed,
        business_date,
        unmatched_entry_items + missing_entry_items + amount_break_items + date_mismatch_items as reconciliation_breaks,
        breaks_outstanding as reconciliation_breaks_outstanding
    from {{ ref('fct_reconciliation_daily') }}
),

-- a feed counts as missing on a date when other dates have it and this one has no file of it
grid as (
    select f.feed, d.business_date
    from feeds as f
    cross join dates as d
)

select
    g.feed,
    g.business_date,
    m.feed is null as is_feed_missing,
    cast(coalesce(m.files, 0) as bigint) as files,
    cast(coalesce(m.rows_in_files, 0) as bigint) as rows_in_files,
    cast(coalesce(m.rows_loaded, 0) as bigint) as rows_loaded,
    cast(coalesce(m.rows_quarantined, 0) as bigint) as rows_quarantined,
    cast(coalesce(m.rows_duplicate, 0) as bigint) as rows_duplicate,
    cast(coalesce(k.duplicate_key_rows, 0) as bigint) as duplicate_key_rows,
    cast(coalesce(q.quarantined_value_required, 0) as bigint) as quarantined_value_required,
    cast(coalesce(q.quarantined_value_type, 0) as bigint) as quarantined_value_type,
    cast(coalesce(q.quarantined_value_money_dp, 0) as bigint) as quarantined_value_money_dp,
    cast(coalesce(q.quarantined_value_range, 0) as bigint) as quarantined_value_range,
    cast(coalesce(q.quarantined_value_enum, 0) as bigint) as quarantined_value_enum,
    cast(coalesce(q.quarantined_value_currency, 0) as bigint) as quarantined_value_currency,
    cast(coalesce(q.quarantined_time_offset, 0) as bigint) as quarantined_time_offset,
    cast(coalesce(q.quarantined_time_business_date, 0) as bigint) as quarantined_time_business_date,
    cast(coalesce(q.quarantined_other, 0) as bigint) as quarantined_other,
    q.quarantine_rules,
    cast(coalesce(r.reconciliation_breaks, 0) as bigint) as reconciliation_breaks,
    cast(coalesce(r.reconciliation_breaks_outstanding, 0) as bigint) as reconciliation_breaks_outstanding,
    cast(m.last_loaded_at as timestamp) as last_loaded_at
from grid as g
left join files as m on m.feed = g.feed and m.business_date = g.business_date
left join quarantine as q on q.feed = g.feed and q.business_date = g.business_date
left join duplicate_keys as k on k.feed = g.feed and k.business_date = g.business_date
left join reconciliation as r on r.feed = g.feed and r.business_date = g.business_date
where true {{ in_window('g.business_date') }}
