-- Daily snapshots of instruments with their board's daily price limit.
with source as (
    select * from {{ source('raw', 'instruments') }}
),

renamed as (
    select
        symbol,
        name as instrument_name,
        board,
        liquidity_tier,
        currency,
        cast(case board when 'MAIN' then 0.10 when 'GROWTH' then 0.20 when 'ST' then 0.05 end as decimal(4, 2)) as price_limit,
        _business_date as snapshot_date,
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
