-- End-of-day prices per business date.
with source as (
    select * from {{ source('raw', 'market_prices') }}
),

renamed as (
    select
        symbol,
        _business_date as business_date,
        close as close_price,
        high as high_price,
        low as low_price,
        volume,
        limit_status,
        limit_status = 'LIMIT_DOWN' as is_limit_down,
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
