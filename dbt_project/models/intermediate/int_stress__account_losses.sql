-- M8 stress loss per account, business date and scenario (stress_scenarios seed), on the positions at
-- the close. Long positions only lose in these scenarios (a short would gain from the fall, and it is
-- not counted as an offset): loss_ij = max(0, MV_ij) × the scenario's loss fraction for the position:
--   limit_down   1 − (1 − board limit)^N, N = the scenario's lock days for the position's board — the
--                position is locked and cannot be sold, so the whole compounded move is lost;
--   vol_shock    min(k × σ_daily × √h, 1 − (1 − board limit)^h), σ = 20-day realised daily volatility
--                (vol_fallback_daily when the instrument has fewer than vol_min_returns returns);
--   top2_default the liquidity tier's liquidation haircut, for the accounts of the groups with the
--                largest loans (ΣL of the group at the close; ties by group_id), 0 for everybody else.
-- Fractions are exact decimals (no binary float touches money): compounding with decimal_power, the
-- volatility fraction rounded to 12 dp. Losses are DECIMAL(38,6), half-even.
with scenarios as (
    select * from {{ ref('stress_scenarios') }}
),

accounts as (
    select account_id, business_date, group_id, loan_principal
    from {{ ref('int_accounts__daily') }}
),

group_loans as (
    select business_date, group_id, sum(loan_principal) as group_loans
    from accounts
    group by 1, 2
),

group_rank as (
    select
        business_date,
        group_id,
        row_number() over (partition by business_date order by group_loans desc, group_id) as loan_rank
    from group_loans
    where group_loans > 0
),

positions as (
    select
        p.account_id,
        p.business_date,
        p.symbol,
        p.board,
        p.liquidity_tier,
        p.market_value,
        i.price_limit,
        v.vol_daily
    from {{ ref('int_positions__daily') }} as p
    left join {{ ref('stg_reference__instruments') }} as i
        on i.symbol = p.symbol and i.snapshot_date = p.business_date
    left join {{ ref('int_market__volatility') }} as v
        on v.symbol = p.symbol and v.business_date = p.business_date
),

haircuts as (
    select scope as liquidity_tier, value as haircut
    from {{ ref('risk_parameters') }}
    where parameter = 'liquidation_haircut'
),

params as (
    select {{ risk_param('vol_fallback_daily') }} as vol_fallback_daily
),

position_scenarios as (
    select
        p.account_id,
        p.business_date,
        p.symbol,
        a.group_id,
        s.scenario_id,
        s.scenario_type,
        case when p.market_value > 0 then p.market_value else 0 end as long_value,
        case s.scenario_type
            when 'limit_down' then
                1 - {{ decimal_power('1 - p.price_limit',
                                     "case p.board when 'MAIN' then s.lock_days_main when 'GROWTH' then s.lock_days_growth when 'ST' then s.lock_days_st end") }}
            when 'vol_shock' then
                least(
                    {{ ratio_to_decimal('s.vol_multiplier * coalesce(p.vol_daily, pr.vol_fallback_daily) * sqrt(cast(s.horizon_days as double))') }},
                    1 - {{ decimal_power('1 - p.price_limit', 's.horizon_days') }}
                )
            when 'top2_default' then
                case when gr.loan_rank <= s.defaulting_groups then h.haircut else 0 end
        end as loss_fraction,
        s.scenario_type = 'top2_default' and gr.loan_rank <= s.defaulting_groups as is_defaulting
    from positions as p
    cross join scenarios as s
    cross join params as pr
    inner join accounts as a on a.account_id = p.account_id and a.business_date = p.business_date
    left join group_rank as gr on gr.business_date = p.business_date and gr.group_id = a.group_id
    left join haircuts as h on h.liquidity_tier = p.liquidity_tier
)

select
    account_id,
    business_date,
    scenario_id,
    group_id,
    max(scenario_type) as scenario_type,
    count(*) as positions,
    cast(sum(long_value) as decimal(38, 6)) as long_market_value,
    cast(sum({{ round_half_even('long_value * loss_fraction', 6) }}) as decimal(38, 6)) as stress_loss,
    max(case when is_defaulting then 1 else 0 end) = 1 as is_defaulting
from position_scenarios
group by 1, 2, 3, 4
