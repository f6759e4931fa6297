-- Business dates present in the warehouse (landing folders), with the previous business date and
-- the calendar days each business date covers (the weekend days before it, SPEC §1.1).
with dates as (
    select distinct business_date from {{ ref('stg_market__prices') }}
    union
    select distinct business_date from {{ ref('stg_custody__balances') }}
),

ordered as (
    select
        business_date,
        lag(business_date) over (order by business_date) as previous_business_date,
        lead(business_date) over (order by business_date) as next_business_date,
        cast(date_trunc('month', business_date) as date) as month_start
    from dates
)

select
    business_date,
    previous_business_date,
    next_business_date,
    month_start,
    -- first calendar day attributed to this business date (the day after the previous one)
    coalesce(cast({{ dbt.dateadd('day', 1, 'previous_business_date') }} as date), business_date) as covers_from
from ordered
