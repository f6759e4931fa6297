-- Gate (SPEC §5 "every liquidation fill has a trigger"): a LIQUIDATION fill carries a
-- liquidation_id that a LIQUIDATION_TRIGGER of the same account carries, and is not executed before
-- it. Times are compared to the second (a fill in the trigger's second counts as after it, as in the
-- landing contract check); the trigger may sit on an earlier business date (staged liquidations run
-- over several days when positions are locked limit-down).
{{ config(severity='error', tags=['gate', 'cross_feed'],
          meta={'dagster': {'ref': {'name': 'stg_trading__fills'}}}) }}

with fills as (
    select fill_id, account_id, liquidation_id, executed_at, source_file, source_row
    from {{ ref('stg_trading__fills') }}
    where origin = 'LIQUIDATION'
        {{ gate_window('business_date') }}
),

triggers as (
    select liquidation_id, account_id, event_time, event_id
    from {{ ref('stg_risk__events') }}
    where event_type = 'LIQUIDATION_TRIGGER' and liquidation_id is not null
),

first_trigger as (
    select liquidation_id, min(event_time) as trigger_time, min(event_id) as event_id, min(account_id) as account_id
    from triggers
    group by 1
),

checked as (
    select
        f.*,
        t.trigger_time,
        t.event_id as trigger_event_id,
        t.account_id as trigger_account_id,
        s.account_id is not null as same_account
    from fills as f
    left join first_trigger as t on t.liquidation_id = f.liquidation_id
    left join (select distinct liquidation_id, account_id from triggers) as s
        on s.liquidation_id = f.liquidation_id and s.account_id = f.account_id
)

select
    'trades' as feed,
    source_file,
    source_row,
    case
        when liquidation_id is null or trigger_time is null then 'ref.liquidation'
        when not same_account then 'ref.liquidation_account'
        else 'ref.liquidation_order'
    end as rule,
    case
        when liquidation_id is null
            then {{ dbt.concat(["'LIQUIDATION fill '", "fill_id", "' carries no liquidation_id'"]) }}
        when trigger_time is null
            then {{ dbt.concat(["'LIQUIDATION fill '", "fill_id", "': no LIQUIDATION_TRIGGER carries liquidation_id '''",
                                "liquidation_id", "''''"]) }}
        when not same_account
            then {{ dbt.concat(["'LIQUIDATION fill '", "fill_id", "' on '", "account_id", "': trigger '",
                                "trigger_event_id", "' of '''", "liquidation_id", "''' is on '", "trigger_account_id"]) }}
        else {{ dbt.concat(["'LIQUIDATION fill '", "fill_id", "' at '", "cast(executed_at as " ~ dbt.type_string() ~ ")",
                            "' UTC is before its trigger '", "trigger_event_id", "' at '",
                            "cast(trigger_time as " ~ dbt.type_string() ~ ")", "' UTC'"]) }}
    end as detail
from checked
where liquidation_id is null
    or trigger_time is null
    or not same_account
    or {{ dbt.date_trunc('second', 'executed_at') }} < {{ dbt.date_trunc('second', 'trigger_time') }}
