-- Risk-engine events as logged (the engine's own intraday figures are kept as given).
with source as (
    select * from {{ source('raw', 'risk_events') }}
),

deduplicated as (
    select *
    from source
    qualify row_number() over (partition by event_id order by _business_date, _source_file, _source_row) = 1
),

renamed as (
    select
        -- ids
        event_id,
        account_id,
        liquidation_id,
        -- attributes
        type as event_type,
        -- amounts
        equity,
        gross_exposure,
        cast(margin_ratio as double) as margin_ratio,
        -- timestamps
        event_time,
        _business_date as business_date,
        -- lineage
        _source_file as source_file,
        _source_row as source_row
    from deduplicated
)

select * from renamed
