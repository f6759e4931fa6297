-- Opening (OPBD) and closing (CLBD) balances per statement, signed by CdtDbtInd.
with source as (
    select * from {{ source('raw', 'custody_balances') }}
),

renamed as (
    select
        -- ids
        statement_id,
        custody_account,
        -- attributes
        currency,
        type as balance_type,
        date as balance_date,
        _business_date as business_date,
        -- amounts
        cast(case when credit_debit = 'CRDT' then amount else -amount end as decimal(18, 2)) as signed_amount,
        -- lineage
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
