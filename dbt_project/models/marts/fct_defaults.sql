{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='append_new_columns') }}
-- One row per DEFAULT (SPEC §1.2): shortfall S, what the ledger booked that day (interest charged,
-- loan repaid, reserve compensation, write-off — each split into interest and principal), the
-- reserve the compensation could draw on, and the write-off allocated to providers.
with settlements as (
    select *
    from {{ ref('int_defaults__settlements') }}
    where true {{ in_window('business_date') }}
),

allocations as (
    select default_event_id, sum(allocated) as loss_allocated, count(*) as providers_bearing_loss
    from {{ ref('int_defaults__loss_allocations') }}
    where true {{ in_window('business_date') }}
    group by 1
)

select
    cast(s.default_event_id as {{ dbt.type_string() }}) as default_event_id,
    cast(s.account_id as {{ dbt.type_string() }}) as account_id,
    cast(s.client_id as {{ dbt.type_string() }}) as client_id,
    cast(s.group_id as {{ dbt.type_string() }}) as group_id,
    cast(s.kyc_tier as {{ dbt.type_string() }}) as kyc_tier,
    cast(s.liquidation_id as {{ dbt.type_string() }}) as liquidation_id,
    cast(s.business_date as date) as business_date,
    cast(s.default_seq as integer) as default_seq,
    cast(s.liquidation_triggered_at as timestamp) as liquidation_triggered_at,
    cast(s.liquidation_done_at as timestamp) as liquidation_done_at,
    cast(s.default_at as timestamp) as default_at,
    cast(s.shortfall as decimal(18, 2)) as shortfall,
    cast(s.interest_charged as decimal(18, 2)) as interest_charged,
    cast(s.loan_repaid as decimal(18, 2)) as loan_repaid,
    cast(s.claim_principal as decimal(18, 2)) as claim_principal,
    cast(s.claim_interest as decimal(18, 2)) as claim_interest,
    cast(s.reserve_available as decimal(18, 2)) as reserve_available,
    cast(s.compensation as decimal(18, 2)) as compensation,
    cast(s.expected_compensation as decimal(18, 2)) as expected_compensation,
    cast(s.interest_compensated as decimal(18, 2)) as interest_compensated,
    cast(s.write_off as decimal(18, 2)) as write_off,
    cast(s.interest_written_off as decimal(18, 2)) as interest_written_off,
    cast(s.principal_written_off as decimal(18, 2)) as principal_written_off,
    cast(coalesce(a.loss_allocated, 0) as decimal(18, 2)) as loss_allocated,
    cast(s.write_off - coalesce(a.loss_allocated, 0) as decimal(18, 2)) as loss_unallocated,
    cast(coalesce(a.providers_bearing_loss, 0) as integer) as providers_bearing_loss
from settlements as s
left join allocations as a on a.default_event_id = s.default_event_id
