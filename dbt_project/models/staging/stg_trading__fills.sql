-- Fills, typed and deduplicated by fill_id (a fill repeated in a later file counts once).
with source as (
    select * from {{ source('raw', 'trades') }}
),

deduplicated as (
    select *
    from source
    qualify row_number() over (partition by fill_id order by _business_date, _source_file, _source_row) = 1
),

renamed as (
    select
        -- ids
        fill_id,
        order_id,
        account_id,
        symbol,
        liquidation_id,
        -- attributes
        side,
        origin,
        -- amounts
        quantity,
        price,
        commission,
        cast(quantity * price as decimal(38, 6)) as notional,
        case when side = 'BUY' then quantity else -quantity end as signed_quantity,
        -- cash effect of the fill: + when the account receives cash (sells), SPEC §1.1
        cast(case when side = 'SELL' then quantity * price else -(quantity * price) end as decimal(38, 6)) as cash_effect,
        -- timestamps (UTC at rest)
        executed_at,
        _business_date as business_date,
        -- lineage
        _source_file as source_file,
        _source_row as source_row
    from deduplicated
)

select * from renamed
