{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='append_new_columns') }}
-- M4 one row per margin call (a WARNING event). A call is cured when the account closes a later
-- business day with m ≥ W (tested exactly: E ≥ W·G with G > 0) before any LIQUIDATION_TRIGGER of
-- the account; it is liquidated when a trigger comes first (on or before the first curing close);
-- otherwise it is still open at the last loaded close. business_date = the day the call was issued.
-- A call's outcome can change after the day it was issued, so a windowed run also rebuilds every
-- issue date that still had a call open when the window starts (same rows as a full build).
with risk_events as (
    select * from {{ ref('stg_risk__events') }}
),

warnings as (
    select
        event_id as warning_event_id,
        account_id,
        business_date,
        event_time as issued_at,
        equity as equity_at_issue,
        gross_exposure as gross_exposure_at_issue,
        margin_ratio as margin_ratio_at_issue,
        lead(event_time) over (partition by account_id order by event_time, event_id) as next_warning_at
    from risk_events
    where event_type = 'WARNING'
),

restricts as (
    select account_id, event_time
    from risk_events
    where event_type = 'RESTRICT'
),

triggers as (
    select account_id, liquidation_id, business_date, event_time
    from risk_events
    where event_type = 'LIQUIDATION_TRIGGER'
),

closes as (
    select account_id, business_date, warning_rate, mm_rate, group_id, kyc_tier,
           gross_exposure > 0 and equity >= warning_rate * gross_exposure as is_above_warning
    from {{ ref('int_accounts__daily') }}
),

first_restrict as (
    select w.warning_event_id, min(r.event_time) as restricted_at
    from warnings as w
    inner join restricts as r
        on r.account_id = w.account_id and r.event_time >= w.issued_at
        and (w.next_warning_at is null or r.event_time < w.next_warning_at)
    group by 1
),

first_trigger as (
    select warning_event_id, liquidation_id, business_date as liquidated_on, event_time as liquidation_triggered_at
    from (
        select
            w.warning_event_id,
            t.liquidation_id,
            t.business_date,
            t.event_time,
            row_number() over (partition by w.warning_event_id order by t.event_time, t.liquidation_id) as nth
        from warnings as w
        inner join triggers as t on t.account_id = w.account_id and t.event_time >= w.issued_at
    ) as ranked
    where nth = 1
),

first_cure as (
    select w.warning_event_id, min(c.business_date) as cure_close_on
    from warnings as w
    inner join closes as c
        on c.account_id = w.account_id and c.business_date > w.business_date and c.is_above_warning
    group by 1
),

calls as (
    select
        w.warning_event_id,
        w.account_id,
        c.group_id,
        c.kyc_tier,
        w.business_date,
        w.issued_at,
        r.restricted_at,
        w.equity_at_issue,
        w.gross_exposure_at_issue,
        w.margin_ratio_at_issue,
        c.warning_rate,
        c.mm_rate,
        t.liquidation_id,
        t.liquidation_triggered_at,
        -- a trigger on the day of the first curing close still comes first (it is logged at that close)
        case when f.cure_close_on is not null and (t.liquidated_on is null or f.cure_close_on < t.liquidated_on)
             then f.cure_close_on end as cured_on,
        case when t.liquidated_on is not null and (f.cure_close_on is null or t.liquidated_on <= f.cure_close_on)
             then t.liquidated_on end as liquidated_on
    from warnings as w
    left join first_restrict as r on r.warning_event_id = w.warning_event_id
    left join first_trigger as t on t.warning_event_id = w.warning_event_id
    left join first_cure as f on f.warning_event_id = w.warning_event_id
    left join closes as c on c.account_id = w.account_id and c.business_date = w.business_date
),

{% if is_incremental() and has_window() %}
refresh_dates as (
    -- the window, plus the issue dates of calls still unresolved when the window starts
    select distinct business_date
    from calls
    where business_date between cast('{{ window_start() }}' as date) and cast('{{ window_end() }}' as date)
       or (business_date < cast('{{ window_start() }}' as date)
           and coalesce(cured_on, liquidated_on, cast('9999-12-31' as date)) >= cast('{{ window_start() }}' as date))
),
{% endif %}

final as (
    select
        *,
        case
            when cured_on is not null then 'cured'
            when liquidated_on is not null then 'liquidated'
            else 'open'
        end as outcome,
        coalesce(cured_on, liquidated_on) as resolved_on
    from calls
)

select
    cast(warning_event_id as {{ dbt.type_string() }}) as warning_event_id,
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(group_id as {{ dbt.type_string() }}) as group_id,
    cast(kyc_tier as {{ dbt.type_string() }}) as kyc_tier,
    cast(business_date as date) as business_date,
    cast(issued_at as timestamp) as issued_at,
    cast(restricted_at as timestamp) as restricted_at,
    cast(equity_at_issue as decimal(18, 2)) as equity_at_issue,
    cast(gross_exposure_at_issue as decimal(18, 2)) as gross_exposure_at_issue,
    cast(margin_ratio_at_issue as double) as margin_ratio_at_issue,
    cast(warning_rate as decimal(18, 10)) as warning_rate,
    cast(mm_rate as decimal(18, 10)) as mm_rate,
    cast(outcome as {{ dbt.type_string() }}) as outcome,
    cast(cured_on as date) as cured_on,
    cast(liquidated_on as date) as liquidated_on,
    cast(resolved_on as date) as resolved_on,
    cast(case when liquidated_on is not null then liquidation_id end as {{ dbt.type_string() }}) as liquidation_id,
    cast(case when liquidated_on is not null then liquidation_triggered_at end as timestamp) as liquidation_triggered_at,
    outcome = 'cured' as is_cured,
    outcome = 'liquidated' as is_liquidated,
    outcome = 'open' as is_open
from final
{% if is_incremental() and has_window() %}
where business_date in (select business_date from refresh_dates)
{% endif %}
