-- Custody entries signed by CdtDbtInd alone (a reversal already carries the opposite indicator).
-- An entry repeated by an overlapping statement (same custody account and entry_ref) counts once.
with source as (
    select * from {{ source('raw', 'custody_entries') }}
),

ranked as (
    select
        *,
        -- numbered among booked copies only: a pending copy must not hide the booked one
        row_number() over (
            partition by custody_account, entry_ref, tx_seq, status = 'BOOK'
            order by _business_date, statement_id, _source_file, _source_row
        ) as occurrence
    from source
),

renamed as (
    select
        -- ids
        statement_id,
        custody_account,
        entry_ref,
        tx_seq,
        end_to_end_id,
        -- attributes
        currency,
        status,
        reversal as is_reversal,
        remittance,
        booking_date,
        value_date,
        _business_date as business_date,
        -- amounts
        amount,
        cast(case when credit_debit = 'CRDT' then amount else -amount end as decimal(18, 2)) as signed_amount,
        credit_debit,
        occurrence > 1 as is_repeated,
        status = 'BOOK' and occurrence = 1 as counts,
        -- lineage
        _source_file as source_file,
        _source_row as source_row
    from ranked
)

select * from renamed
