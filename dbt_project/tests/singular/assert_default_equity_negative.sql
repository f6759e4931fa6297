-- Gate (SPEC §1.2): a DEFAULT event's equity is −S, the shortfall, so it is negative.
{{ config(severity='error', tags=['gate', 'cross_feed']) }}

select
    'risk_events' as feed,
    source_file,
    source_row,
    'value.range' as rule,
    {{ dbt.concat(["'DEFAULT '", "event_id", "' of '", "account_id", "': equity '",
                   "coalesce(cast(equity as " ~ dbt.type_string() ~ "), 'empty')", "' must be negative (-S, SPEC 1.2)'"]) }} as detail
from {{ ref('stg_risk__events') }}
where event_type = 'DEFAULT' and (equity is null or equity >= 0)
    {{ gate_window('business_date') }}
