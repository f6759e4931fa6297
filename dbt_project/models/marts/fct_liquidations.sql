{#-
  Incremental on liquidation_id (delete+insert): a windowed run rebuilds every liquidation whose life
  — trigger business date to LIQUIDATION_DONE (open = still running) — overlaps the window, so a run for
  day d also updates liquidations triggered on earlier days that were still being filled on d, and
  leaves finished ones alone. It reads all loaded data (not only up to end_date), so a rerun of an old
  partition gives the same rows as a full build.
-#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='liquidation_id', on_schema_change='fail') }}

with events as (
    select * from {{ ref('stg_risk__events') }}
    where liquidation_id is not null
),

triggers as (
    select
        liquidation_id,
        account_id,
        event_id as trigger_event_id,
        event_time as trigger_at,
        business_date as trigger_business_date,
        equity as trigger_equity,
        gross_exposure as trigger_gross_exposure,
        margin_ratio as trigger_margin_ratio
    from events
    where event_type = 'LIQUIDATION_TRIGGER'
),

outcomes as (
    select
        liquidation_id,
        min(case when event_type = 'LIQUIDATION_DONE' then event_time end) as done_at,
        min(case when event_type = 'LIQUIDATION_DONE' then business_date end) as done_business_date,
        min(case when event_type = 'DEFAULT' then event_time end) as default_at,
        -- the DEFAULT event's equity is −S (SPEC §1.2)
        -min(case when event_type = 'DEFAULT' then equity end) as default_shortfall
    from events
    group by 1
),

liquidation_fills as (
    select *
    from {{ ref('stg_trading__fills') }}
    where origin = 'LIQUIDATION'
),

-- the run's liquidations: those alive during the window (see the config note)
scoped as (
    select t.*, o.done_at, o.done_business_date, o.default_at, o.default_shortfall
    from triggers as t
    left join outcomes as o on o.liquidation_id = t.liquidation_id
    where true
    {{ overlaps_window('t.trigger_business_date', 'o.done_business_date') }}
),

calendar as (
    select business_date, previous_business_date
    from {{ ref('int_calendar__business_days') }}
),

-- reference price (M7): the instrument's close on the business day before the trigger's
fills_priced as (
    select
        f.liquidation_id,
        f.business_date,
        f.executed_at,
        f.side,
        f.quantity,
        f.price,
        f.notional,
        ref_price.close_price as reference_price
    from liquidation_fills as f
    inner join scoped as s on s.liquidation_id = f.liquidation_id
    left join calendar as c on c.business_date = s.trigger_business_date
    left join {{ ref('stg_market__prices') }} as ref_price
        on ref_price.symbol = f.symbol and ref_price.business_date = c.previous_business_date
),

fill_stats as (
    select
        liquidation_id,
        count(*) as fills,
        count(distinct business_date) as fill_business_days,
        min(executed_at) as first_fill_at,
        max(executed_at) as last_fill_at,
        max(business_date) as last_fill_business_date,
        sum(case when side = 'SELL' then quantity else 0 end) as sell_quantity,
        sum(case when side = 'BUY' then quantity else 0 end) as buy_quantity,
        sum(case when side = 'SELL' then notional else 0 end) as sell_notional,
        sum(case when side = 'BUY' then notional else 0 end) as buy_notional,
        count(*) - count(reference_price) as fills_without_reference,
        sum(quantity * reference_price) as reference_notional,
        -- cost of the liquidation against the reference: a sell below it and a buy above it are positive
        sum(case when side = 'SELL' then quantity * (reference_price - price)
                 else quantity * (price - reference_price) end) as slippage
    from fills_priced
    group by 1
),

-- what the account held at the trigger: the previous close's positions plus the trigger day's fills
-- up to the trigger time (liquidation fills of this liquidation all come after it)
holdings_parts as (
    select s.liquidation_id, p.symbol, p.quantity
    from scoped as s
    inner join calendar as c on c.business_date = s.trigger_business_date
    inner join {{ ref('int_positions__daily') }} as p
        on p.account_id = s.account_id and p.business_date = c.previous_business_date
    union all
    select s.liquidation_id, f.symbol, f.signed_quantity as quantity
    from scoped as s
    inner join {{ ref('stg_trading__fills') }} as f
        on f.account_id = s.account_id
       and f.business_date = s.trigger_business_date
       and f.executed_at <= s.trigger_at
),

holdings_at_trigger as (
    select liquidation_id, symbol
    from holdings_parts
    group by 1, 2
    having sum(quantity) <> 0
),

-- M6: limit-down when a held instrument was LIMIT_DOWN on a business day from the trigger's to the
-- last fill's (the trigger's day alone while no fill has happened yet)
limit_down as (
    select
        h.liquidation_id,
        count(distinct h.symbol) as symbols_held,
        count(distinct case when p.is_limit_down then h.symbol end) as limit_down_symbols
    from holdings_at_trigger as h
    inner join scoped as s on s.liquidation_id = h.liquidation_id
    left join fill_stats as fs on fs.liquidation_id = h.liquidation_id
    left join {{ ref('stg_market__prices') }} as p
        on p.symbol = h.symbol
       and p.business_date between s.trigger_business_date
                               and coalesce(fs.last_fill_business_date, s.trigger_business_date)
    group by 1
),

sla as (
    select {{ risk_param('liquidation_sla_seconds') }} as sla_seconds
),

joined as (
    select
        s.*,
        c.previous_business_date as reference_date,
        fs.fills,
        fs.fill_business_days,
        fs.first_fill_at,
        fs.last_fill_at,
        fs.last_fill_business_date,
        fs.sell_quantity,
        fs.buy_quantity,
        fs.sell_notional,
        fs.buy_notional,
        fs.fills_without_reference,
        fs.reference_notional,
        fs.slippage,
        ld.symbols_held,
        ld.limit_down_symbols,
        {{ milliseconds_between('s.trigger_at', 'fs.first_fill_at') }} as latency_first_fill_ms,
        {{ milliseconds_between('s.trigger_at', 'fs.last_fill_at') }} as latency_last_fill_ms,
        sla.sla_seconds
    from scoped as s
    cross join sla
    left join calendar as c on c.business_date = s.trigger_business_date
    left join fill_stats as fs on fs.liquidation_id = s.liquidation_id
    left join limit_down as ld on ld.liquidation_id = s.liquidation_id
)

select
    -- ids
    liquidation_id as liquidation_id,
    account_id as account_id,
    trigger_event_id as trigger_event_id,
    -- trigger (the risk engine's own intraday figures, as logged)
    cast(trigger_at as timestamp) as trigger_at,
    cast(trigger_business_date as date) as trigger_business_date,
    cast({{ dbt.date_trunc('month', 'trigger_business_date') }} as date) as trigger_month,
    cast(trigger_equity as decimal(18, 2)) as trigger_equity,
    cast(trigger_gross_exposure as decimal(18, 2)) as trigger_gross_exposure,
    cast(trigger_margin_ratio as double) as trigger_margin_ratio,
    -- outcome
    cast(done_at as timestamp) as done_at,
    cast(done_business_date as date) as done_business_date,
    cast(done_at is not null as boolean) as is_complete,
    cast(default_at is not null as boolean) as has_default,
    cast(default_shortfall as decimal(18, 2)) as default_shortfall,
    -- fills
    cast(coalesce(fills, 0) as integer) as fills,
    cast(coalesce(fill_business_days, 0) as integer) as fill_business_days,
    cast(first_fill_at as timestamp) as first_fill_at,
    cast(last_fill_at as timestamp) as last_fill_at,
    cast(last_fill_business_date as date) as last_fill_business_date,
    cast(coalesce(sell_quantity, 0) as bigint) as sell_quantity,
    cast(coalesce(buy_quantity, 0) as bigint) as buy_quantity,
    cast({{ round_half_even('coalesce(sell_notional, 0) - coalesce(buy_notional, 0)', 2) }} as decimal(18, 2)) as net_proceeds,
    -- M6 latency (seconds, millisecond-exact) and SLA
    cast(latency_first_fill_ms as double) / 1000 as latency_first_fill_seconds,
    cast(latency_last_fill_ms as double) / 1000 as latency_last_fill_seconds,
    cast(sla_seconds as integer) as sla_seconds,
    cast(case when done_at is not null and last_fill_at is not null
              then latency_last_fill_ms <= sla_seconds * 1000 end as boolean) as within_sla,
    -- M6 limit-down classification
    cast(coalesce(symbols_held, 0) as integer) as symbols_held_at_trigger,
    cast(coalesce(limit_down_symbols, 0) as integer) as limit_down_symbols,
    cast(coalesce(limit_down_symbols, 0) > 0 as boolean) as is_limit_down,
    -- M7 slippage against the close of the business day before the trigger
    cast(reference_date as date) as reference_date,
    cast(case when fills_without_reference = 0
              then {{ round_half_even('reference_notional', 2) }} end as decimal(18, 2)) as reference_notional,
    cast(case when fills_without_reference = 0
              then {{ round_half_even('slippage', 2) }} end as decimal(18, 2)) as slippage,
    cast(case when fills_without_reference = 0
              then {{ safe_ratio('slippage', 'reference_notional') }} * 10000 end as double) as slippage_bp
from joined
