-- Ledger rows with their effect on the client's cash and loan principal (SPEC §1.1 table).
-- DEFAULT_COMPENSATION and WRITE_OFF reduce unpaid interest first, then principal; that split is
-- made in int_ledger__account_daily, here they carry their whole amount as `claim_settled`.
with source as (
    select * from {{ source('raw', 'ledger_entries') }}
),

deduplicated as (
    select *
    from source
    qualify row_number() over (partition by entry_id order by _business_date, _source_file, _source_row) = 1
),

renamed as (
    select
        -- ids
        entry_id,
        account_id,
        end_to_end_id,
        -- attributes
        type as entry_type,
        currency,
        business_date,
        -- amounts
        amount,
        cast(case type
            when 'DEPOSIT' then amount
            when 'WITHDRAWAL' then -amount
            when 'LOAN_DRAW' then amount
            when 'LOAN_REPAY' then -amount
            when 'TRADE_SETTLEMENT' then amount
            when 'INTEREST' then -amount
            when 'FEE' then -amount
            when 'PERFORMANCE_FEE' then -amount
            else 0
        end as decimal(18, 2)) as cash_effect,
        cast(case type
            when 'LOAN_DRAW' then amount
            when 'LOAN_REPAY' then -amount
            else 0
        end as decimal(18, 2)) as principal_flow,
        cast(case when type in ('DEFAULT_COMPENSATION', 'WRITE_OFF') then amount else 0 end as decimal(18, 2)) as claim_settled,
        cast(case when type = 'INTEREST' then amount else 0 end as decimal(18, 2)) as interest_charged,
        account_id = 'RISK_RESERVE' or type = 'RESERVE_FUNDING' as is_platform_entry,
        -- lineage
        _business_date as landed_business_date,
        _source_file as source_file,
        _source_row as source_row
    from deduplicated
)

select * from renamed
