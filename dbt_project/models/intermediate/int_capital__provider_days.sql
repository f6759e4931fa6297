-- Each capital provider's capital balance on every calendar day (SPEC §1.2: contributions −
-- redemptions paid − losses allocated, by settlement date; a redemption request moves nothing),
-- with the day's flows and the reference terms (tranche, commitment, coupon) in force.
-- `waterfall_balance` is the balance the month-end income waterfall weighs (B_p(d) in
-- simulator/README.md): the balance at the close standing for the day, before the loss that the
-- waterfall itself allocates at that close (a negative residual), which is booked the same day.
with calendar as (
    select * from {{ ref('int_capital__calendar_days') }}
),

events as (
    select * from {{ ref('stg_capital__events') }}
),

snapshots as (
    select
        provider_id,
        provider_name,
        tranche,
        commitment,
        coupon_rate,
        snapshot_date,
        -- the first snapshot also stands for the days before it
        case when row_number() over (partition by provider_id order by snapshot_date) = 1
             then cast('1900-01-01' as date) else snapshot_date end as valid_from,
        coalesce(
            cast({{ dbt.dateadd('day', -1, 'lead(snapshot_date) over (partition by provider_id order by snapshot_date)') }} as date),
            cast('9999-12-31' as date)
        ) as valid_to
    from {{ ref('stg_reference__providers') }}
),

providers as (
    select provider_id, max(tranche) as event_tranche from events group by 1
    union
    select provider_id, cast(null as {{ dbt.type_string() }}) as event_tranche from snapshots
),

provider_list as (
    select provider_id, max(event_tranche) as event_tranche from providers group by 1
),

first_day as (
    select min(calendar_day) as first_day from calendar
),

flows as (
    -- events settled before the first calendar day are brought forward onto it
    select
        e.provider_id,
        greatest(e.settlement_date, f.first_day) as calendar_day,
        sum(e.capital_effect) as capital_effect,
        sum(case when e.event_type = 'CONTRIBUTION' then e.amount else 0 end) as contributions,
        sum(case when e.event_type = 'REDEMPTION_PAID' then e.amount else 0 end) as redemptions_paid,
        sum(case when e.event_type = 'LOSS_ALLOCATION' then e.amount else 0 end) as losses_allocated,
        sum(case when e.event_type = 'DISTRIBUTION' then e.amount else 0 end) as distributions
    from events as e
    cross join first_day as f
    group by 1, 2
),

default_losses as (
    select provider_id, business_date as calendar_day, sum(allocated) as default_losses
    from {{ ref('int_defaults__loss_allocations') }}
    group by 1, 2
),

grid as (
    select
        p.provider_id,
        c.calendar_day,
        c.month_start,
        c.month_end_business_date,
        c.as_of_business_date,
        c.is_business_date,
        coalesce(s.tranche, p.event_tranche) as tranche,
        s.provider_name,
        s.commitment,
        s.coupon_rate,
        coalesce(f.capital_effect, 0) as capital_effect,
        coalesce(f.contributions, 0) as contributions,
        coalesce(f.redemptions_paid, 0) as redemptions_paid,
        coalesce(f.losses_allocated, 0) as losses_allocated,
        coalesce(f.distributions, 0) as distributions,
        coalesce(dl.default_losses, 0) as default_losses
    from provider_list as p
    cross join calendar as c
    left join snapshots as s
        on s.provider_id = p.provider_id and c.calendar_day between s.valid_from and s.valid_to
    left join flows as f on f.provider_id = p.provider_id and f.calendar_day = c.calendar_day
    left join default_losses as dl on dl.provider_id = p.provider_id and dl.calendar_day = c.calendar_day
),

running as (
    select
        *,
        sum(capital_effect) over (
            partition by provider_id order by calendar_day rows between unbounded preceding and current row
        ) as capital_balance,
        -- LOSS_ALLOCATION events that no default explains: the income waterfall's shortfall
        losses_allocated - default_losses as waterfall_losses
    from grid
)

select
    r.provider_id,
    r.calendar_day,
    r.month_start,
    r.month_end_business_date,
    r.as_of_business_date,
    r.is_business_date,
    r.tranche,
    r.provider_name,
    cast(r.commitment as decimal(18, 2)) as commitment,
    r.coupon_rate,
    cast(r.contributions as decimal(18, 2)) as contributions,
    cast(r.redemptions_paid as decimal(18, 2)) as redemptions_paid,
    cast(r.losses_allocated as decimal(18, 2)) as losses_allocated,
    cast(r.default_losses as decimal(18, 2)) as default_losses,
    cast(r.waterfall_losses as decimal(18, 2)) as waterfall_losses,
    cast(r.distributions as decimal(18, 2)) as distributions,
    cast(r.capital_balance as decimal(18, 2)) as capital_balance,
    -- B_p(d): the balance at the close standing for d, without that close's own waterfall loss
    cast(r.capital_balance + coalesce(w.waterfall_losses, 0) as decimal(18, 2)) as waterfall_balance
from running as r
left join running as w
    on w.provider_id = r.provider_id and w.calendar_day = r.as_of_business_date and w.calendar_day <= r.calendar_day
