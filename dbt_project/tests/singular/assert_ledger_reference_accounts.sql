-- Gate (SPEC §5 cross-feed, §1.1): every ledger row books on an account of that day's accounts.csv
-- snapshot (the latest earlier one when the day has none); RESERVE_FUNDING books on RISK_RESERVE.
{{ config(severity='error', tags=['gate', 'cross_feed'],
          meta={'dagster': {'ref': {'name': 'stg_ledger__entries'}}}) }}

with ledger as (
    select entry_id, account_id, entry_type, landed_business_date as business_date, source_file, source_row
    from {{ ref('stg_ledger__entries') }}
    where true {{ gate_window('landed_business_date') }}
),

accounts as (
    select account_id, snapshot_date from {{ ref('stg_reference__accounts') }}
),

account_snapshot as (
    select d.business_date, max(s.snapshot_date) as snapshot_date
    from (select distinct business_date from ledger) as d
    inner join (select distinct snapshot_date from accounts) as s on s.snapshot_date <= d.business_date
    group by 1
)

select
    'ledger_entries' as feed,
    l.source_file,
    l.source_row,
    'ref.account' as rule,
    case
        when l.entry_type = 'RESERVE_FUNDING'
            then {{ dbt.concat(["'entry '", "l.entry_id", "': RESERVE_FUNDING books on account_id RISK_RESERVE, got '''",
                                "l.account_id", "''''"]) }}
        else {{ dbt.concat(["'entry '", "l.entry_id", "': '", "l.entry_type", "' on account_id '''", "l.account_id",
                            "''' not in accounts.csv of '",
                            "coalesce(cast(s.snapshot_date as " ~ dbt.type_string() ~ "), '(no snapshot)')"]) }}
    end as detail
from ledger as l
left join account_snapshot as s on s.business_date = l.business_date
left join accounts as a on a.snapshot_date = s.snapshot_date and a.account_id = l.account_id
where (l.entry_type = 'RESERVE_FUNDING' and l.account_id <> 'RISK_RESERVE')
    or (l.entry_type <> 'RESERVE_FUNDING' and a.account_id is null)
