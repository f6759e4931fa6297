-- Positions per account and symbol at each business date's close: cumulative fills × close price.
with fills_by_day as (
    select
        account_id,
        symbol,
        business_date,
        sum(signed_quantity) as net_quantity
    from {{ ref('stg_trading__fills') }}
    group by 1, 2, 3
),

first_seen as (
    select account_id, symbol, min(business_date) as first_date
    from fills_by_day
    group by 1, 2
),

grid as (
    select f.account_id, f.symbol, c.business_date
    from first_seen as f
    inner join {{ ref('int_calendar__business_days') }} as c
        on c.business_date >= f.first_date
),

cumulative as (
    select
        g.account_id,
        g.symbol,
        g.business_date,
        sum(coalesce(d.net_quantity, 0)) over (
            partition by g.account_id, g.symbol order by g.business_date
            rows between unbounded preceding and current row
        ) as quantity
    from grid as g
    left join fills_by_day as d
        on d.account_id = g.account_id and d.symbol = g.symbol and d.business_date = g.business_date
),

instruments as (
    -- the snapshot in force on each date (a missing daily snapshot keeps the previous one)
    select
        symbol,
        board,
        liquidity_tier,
        snapshot_date,
        coalesce(
            cast({{ dbt.dateadd('day', -1, 'lead(snapshot_date) over (partition by symbol order by snapshot_date)') }} as date),
            cast('9999-12-31' as date)
        ) as valid_to
    from {{ ref('stg_reference__instruments') }}
)

select
    c.account_id,
    c.symbol,
    c.business_date,
    c.quantity,
    p.close_price,
    p.limit_status,
    i.board,
    i.liquidity_tier,
    cast(c.quantity * p.close_price as decimal(38, 6)) as market_value,
    cast(abs(c.quantity * p.close_price) as decimal(38, 6)) as gross_exposure
from cumulative as c
left join {{ ref('stg_market__prices') }} as p
    on p.symbol = c.symbol and p.business_date = c.business_date
left join instruments as i
    on i.symbol = c.symbol and c.business_date between i.snapshot_date and i.valid_to
where c.quantity <> 0
