-- The §1.2 loss waterfall of each default's write-off: JUNIOR first, then MEZZANINE, then SENIOR,
-- each tranche at most its capital balance, pro rata to capital balance inside a tranche, shares
-- rounded half-even to 0.01 and the rounding remainder to the largest balance (then lowest id).
-- Defaults of one day are settled one after the other in DEFAULT event_time order, and each one
-- sees the balances the earlier ones left: hence the recursive walk over the day's defaults.
-- The balance the day's first default sees is everything settled before the day plus the day's own
-- contributions and paid redemptions (the capital desk books them before the risk engine runs;
-- the month-end waterfall's distributions and shortfall come after the defaults).
with recursive defaults as (
    select
        business_date,
        default_event_id,
        account_id,
        write_off,
        cast(row_number() over (partition by business_date order by default_at, default_event_id) as integer) as alloc_seq
    from {{ ref('int_defaults__settlements') }}
    where write_off > 0
),

default_days as (
    select distinct business_date from defaults
),

events as (
    select * from {{ ref('stg_capital__events') }}
),

tranches as (
    -- the tranche in force on the day: the latest reference snapshot on or before it
    select business_date, provider_id, tranche
    from (
        select
            d.business_date,
            p.provider_id,
            p.tranche,
            row_number() over (partition by d.business_date, p.provider_id order by p.snapshot_date desc) as recency
        from default_days as d
        inner join {{ ref('stg_reference__providers') }} as p on p.snapshot_date <= d.business_date
    ) as ranked
    where recency = 1
),

opening as (
    select
        d.business_date,
        e.provider_id,
        max(e.tranche) as event_tranche,
        sum(e.capital_effect) as balance
    from default_days as d
    inner join events as e
        on e.settlement_date < d.business_date
        or (e.settlement_date = d.business_date and e.event_type in ('CONTRIBUTION', 'REDEMPTION_PAID'))
    group by 1, 2
),

walk (business_date, alloc_seq, default_event_id, account_id, write_off, provider_id, tranche,
      balance_before, allocated, takes_remainder, balance_after) as (
    -- step 0: the balances before the day's first default
    select
        o.business_date,
        0,
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(0 as decimal(38, 2)),
        o.provider_id,
        coalesce(t.tranche, o.event_tranche),
        cast(o.balance as decimal(38, 2)),
        cast(0 as decimal(38, 2)),
        false,
        cast(o.balance as decimal(38, 2))
    from opening as o
    left join tranches as t on t.business_date = o.business_date and t.provider_id = o.provider_id

    union all

    -- step k: default k of the day on the balances step k−1 left
    select
        a.business_date,
        a.alloc_seq,
        a.default_event_id,
        a.account_id,
        a.write_off,
        a.provider_id,
        a.tranche,
        a.balance_before,
        cast(a.allocated as decimal(38, 2)),
        a.takes_remainder,
        cast(a.balance_before - a.allocated as decimal(38, 2))
    from (
        {{ loss_waterfall_shares(
            relation="(select d.business_date, d.alloc_seq, d.default_event_id, d.account_id, d.write_off,
                              w.provider_id, w.tranche, w.balance_after as balance_before
                       from walk as w
                       inner join defaults as d
                           on d.business_date = w.business_date and d.alloc_seq = w.alloc_seq + 1)",
            partition_by="business_date, alloc_seq",
            amount="write_off",
            cap="balance_before",
            weight="balance_before") }}
    ) as a
)

select
    business_date,
    alloc_seq,
    default_event_id,
    account_id,
    provider_id,
    tranche,
    cast(write_off as decimal(18, 2)) as write_off,
    cast(balance_before as decimal(18, 2)) as balance_before,
    cast(allocated as decimal(18, 2)) as allocated,
    takes_remainder,
    cast(balance_after as decimal(18, 2)) as balance_after
from walk
where alloc_seq > 0 and allocated <> 0
