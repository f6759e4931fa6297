-- Account attributes valid from one snapshot to the next (a missing daily snapshot keeps the last one).
select
    *,
    coalesce(
        cast({{ dbt.dateadd('day', -1, 'lead(snapshot_date) over (partition by account_id order by snapshot_date)') }} as date),
        cast('9999-12-31' as date)
    ) as valid_to
from {{ ref('stg_reference__accounts') }}
