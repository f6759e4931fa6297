-- Daily snapshots of capital providers.
with source as (
    select * from {{ source('raw', 'providers') }}
),

renamed as (
    select
        provider_id,
        name as provider_name,
        tranche,
        commitment,
        cast(coupon_rate as decimal(18, 10)) as coupon_rate,
        currency,
        _business_date as snapshot_date,
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
