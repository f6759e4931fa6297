-- Capital provider events with their effect on the provider's capital balance (SPEC §1.2) and on
-- CAPITAL_POOL (SPEC §2), both dated by settlement_date.
with source as (
    select * from {{ source('raw', 'capital_events') }}
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
        provider_id,
        end_to_end_id,
        -- attributes
        tranche,
        type as event_type,
        currency,
        event_date,
        settlement_date,
        -- amounts
        amount,
        cast(case type
            when 'CONTRIBUTION' then amount
            when 'REDEMPTION_PAID' then -amount
            when 'LOSS_ALLOCATION' then -amount
            else 0
        end as decimal(18, 2)) as capital_effect,
        cast(case type
            when 'CONTRIBUTION' then amount
            when 'REDEMPTION_PAID' then -amount
            when 'DISTRIBUTION' then -amount
            else 0
        end as decimal(18, 2)) as pool_cash_effect,
        -- lineage
        _business_date as landed_business_date,
        _source_file as source_file,
        _source_row as source_row
    from deduplicated
)

select * from renamed
