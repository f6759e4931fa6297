{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='append_new_columns') }}
-- One row per default × provider bearing part of its write-off (SPEC §1.2 loss waterfall):
-- JUNIOR first, then MEZZANINE, then SENIOR, each tranche at most its capital balance, pro rata to
-- the balance inside a tranche, rounded half-even to 0.01 with the remainder to the largest balance
-- (then the lowest provider_id). Computed from the write-off and the balances, independently of the
-- capital feed's LOSS_ALLOCATION events (which a test compares with it).
with allocations as (
    select *
    from {{ ref('int_defaults__loss_allocations') }}
    where true {{ in_window('business_date') }}
)

select
    cast(default_event_id as {{ dbt.type_string() }}) as default_event_id,
    cast(provider_id as {{ dbt.type_string() }}) as provider_id,
    cast(business_date as date) as business_date,
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(alloc_seq as integer) as allocation_seq,
    cast(tranche as {{ dbt.type_string() }}) as tranche,
    cast({{ tranche_loss_rank('tranche') }} as integer) as loss_order,
    cast(write_off as decimal(18, 2)) as write_off,
    cast(balance_before as decimal(18, 2)) as balance_before,
    cast(allocated as decimal(18, 2)) as allocated_amount,
    cast(balance_after as decimal(18, 2)) as balance_after,
    takes_remainder
from allocations
