-- Gate (SPEC §5 cross-feed): every capital event names a provider of that day's providers.csv
-- snapshot (the latest earlier one when the day has none), and carries that provider's tranche.
{{ config(severity='error', tags=['gate', 'cross_feed'],
          meta={'dagster': {'ref': {'name': 'stg_capital__events'}}}) }}

with events as (
    select event_id, provider_id, tranche, landed_business_date as business_date, source_file, source_row
    from {{ ref('stg_capital__events') }}
    where true {{ gate_window('landed_business_date') }}
),

providers as (
    select provider_id, tranche, snapshot_date from {{ ref('stg_reference__providers') }}
),

provider_snapshot as (
    select d.business_date, max(s.snapshot_date) as snapshot_date
    from (select distinct business_date from events) as d
    inner join (select distinct snapshot_date from providers) as s on s.snapshot_date <= d.business_date
    group by 1
),

checked as (
    select
        e.*,
        s.snapshot_date,
        p.provider_id as known_provider,
        p.tranche as provider_tranche
    from events as e
    left join provider_snapshot as s on s.business_date = e.business_date
    left join providers as p on p.snapshot_date = s.snapshot_date and p.provider_id = e.provider_id
)

select
    'capital_events' as feed,
    source_file,
    source_row,
    'ref.provider' as rule,
    {{ dbt.concat(["'event '", "event_id", "': provider_id '''", "provider_id", "''' not in providers.csv of '",
                   "coalesce(cast(snapshot_date as " ~ dbt.type_string() ~ "), '(no snapshot)')"]) }} as detail
from checked
where known_provider is null

union all

select
    'capital_events' as feed,
    source_file,
    source_row,
    'ref.tranche' as rule,
    {{ dbt.concat(["'event '", "event_id", "': tranche '", "tranche", "' but provider '''", "provider_id",
                   "''' is '", "provider_tranche"]) }} as detail
from checked
where known_provider is not null and tranche <> provider_tranche
