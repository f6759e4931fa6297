-- M14 per instrument and business date: the platform's financed exposure (positions of accounts with
-- L > 0, valued at the close) against the day's traded volume valued at the same close, i.e. how many
-- days of the market's volume the financed holding represents, and its share of all financed exposure.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='fail') }}

with prices as (
    select symbol, business_date, close_price, volume, limit_status
    from {{ ref('stg_market__prices') }}
    where true
    {{ in_window('business_date') }}
),

instruments as (
    select symbol, snapshot_date, board, liquidity_tier
    from {{ ref('stg_reference__instruments') }}
    where true
    {{ in_window('snapshot_date') }}
),

financed as (
    select
        p.symbol,
        p.business_date,
        count(*) as financed_accounts,
        sum(p.quantity) as financed_quantity,
        sum(p.market_value) as financed_exposure
    from {{ ref('int_positions__daily') }} as p
    inner join {{ ref('int_accounts__daily') }} as a
        on a.account_id = p.account_id and a.business_date = p.business_date
    where a.has_loan
    {{ in_window('p.business_date') }}
    group by 1, 2
),

joined as (
    select
        pr.business_date,
        pr.symbol,
        i.board,
        i.liquidity_tier,
        pr.limit_status,
        pr.close_price,
        coalesce(f.financed_accounts, 0) as financed_accounts,
        coalesce(f.financed_quantity, 0) as financed_quantity,
        coalesce(f.financed_exposure, 0) as financed_exposure,
        pr.volume,
        pr.volume * pr.close_price as traded_value,
        sum(coalesce(f.financed_exposure, 0)) over (partition by pr.business_date) as platform_financed_exposure
    from prices as pr
    left join instruments as i on i.symbol = pr.symbol and i.snapshot_date = pr.business_date
    left join financed as f on f.symbol = pr.symbol and f.business_date = pr.business_date
)

select
    cast(business_date as date) as business_date,
    symbol as symbol,
    board as board,
    liquidity_tier as liquidity_tier,
    limit_status as limit_status,
    cast(close_price as decimal(38, 10)) as close_price,
    cast(financed_accounts as integer) as financed_accounts,
    cast(financed_quantity as bigint) as financed_quantity,
    cast({{ round_half_even('financed_exposure', 2) }} as decimal(18, 2)) as financed_exposure,
    cast(volume as bigint) as volume,
    cast({{ round_half_even('traded_value', 2) }} as decimal(18, 2)) as traded_value,
    cast({{ safe_ratio('financed_exposure', 'traded_value') }} as double) as financed_exposure_to_traded_value,
    cast({{ round_half_even('platform_financed_exposure', 2) }} as decimal(18, 2)) as platform_financed_exposure,
    cast({{ safe_ratio('financed_exposure', 'platform_financed_exposure') }} as double) as share_of_financed_exposure
from joined
