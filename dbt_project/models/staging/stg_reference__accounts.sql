-- Daily snapshots of client accounts: the attributes in force on each business date.
with source as (
    select * from {{ source('raw', 'accounts') }}
),

renamed as (
    select
        -- ids
        account_id,
        client_id,
        group_id,
        -- attributes
        kyc_tier,
        credit_score,
        leverage_tier,
        cast(im_rate as decimal(18, 10)) as im_rate,
        cast(warning_rate as decimal(18, 10)) as warning_rate,
        cast(mm_rate as decimal(18, 10)) as mm_rate,
        cast(interest_rate as decimal(18, 10)) as interest_rate,
        opened_on,
        closed_on,
        _business_date as snapshot_date,
        -- lineage
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
