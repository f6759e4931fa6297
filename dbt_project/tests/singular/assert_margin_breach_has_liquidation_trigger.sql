-- Gate (SPEC §1.1: risk events are checked against the closes): an account with a loan whose margin
-- ratio at a close is below its maintenance rate (int_accounts__daily: m < mm_rate, L > 0) has a
-- LIQUIDATION_TRIGGER on that business date or before it. The failure names the date's risk-event
-- file, where the trigger is missing.
{{ config(severity='error', tags=['gate', 'cross_feed'],
          meta={'dagster': {'ref': {'name': 'stg_risk__events'}}}) }}

with breaches as (
    select account_id, business_date, margin_ratio, mm_rate
    from {{ ref('int_accounts__daily') }}
    where has_loan and margin_ratio < mm_rate
        {{ gate_window('business_date') }}
),

first_trigger as (
    select account_id, min(business_date) as first_trigger_date
    from {{ ref('stg_risk__events') }}
    where event_type = 'LIQUIDATION_TRIGGER'
    group by 1
),

risk_files as (
    select business_date, min(file) as file
    from {{ source('raw', 'file_manifest') }}
    where feed = 'risk_events'
    group by 1
)

select
    'risk_events' as feed,
    coalesce(f.file, {{ dbt.concat(["cast(b.business_date as " ~ dbt.type_string() ~ ")", "'/risk_events'"]) }}) as source_file,
    '-' as source_row,
    'risk.liquidation_trigger' as rule,
    {{ dbt.concat(["b.account_id", "' closes '", "cast(b.business_date as " ~ dbt.type_string() ~ ")",
                   "' with margin ratio '", "cast(round(b.margin_ratio, 6) as " ~ dbt.type_string() ~ ")",
                   "' < maintenance '", "cast(b.mm_rate as " ~ dbt.type_string() ~ ")",
                   "' and a loan, but no LIQUIDATION_TRIGGER on or before that day'"]) }} as detail
from breaches as b
left join first_trigger as t on t.account_id = b.account_id
left join risk_files as f on f.business_date = b.business_date
where t.first_trigger_date is null or t.first_trigger_date > b.business_date
