-- M16 per instrument and business date: 20-day realised volatility (int_market__volatility), the
-- recommended IM/MM for its liquidity tier — the high-volatility rates when the annualised volatility
-- is at or above the threshold, the normal rates otherwise — and what the recommendation would do to
-- the financed accounts holding it. An account's requirement under the recommendation is
-- Σ_j G_ij × max(its own rate, the instrument's recommended rate): a recommendation only ever raises a
-- requirement. It breaches when E_i is below that (maintenance: MM, initial: IM).
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='business_date',
          on_schema_change='fail') }}

with volatility as (
    select symbol, business_date, returns_in_window, vol_daily, vol_annualised
    from {{ ref('int_market__volatility') }}
    where true
    {{ in_window('business_date') }}
),

instruments as (
    select symbol, snapshot_date, board, liquidity_tier
    from {{ ref('stg_reference__instruments') }}
    where true
    {{ in_window('snapshot_date') }}
),

tier_rates as (
    select
        scope as liquidity_tier,
        max(case when parameter = 'recommended_im_normal' then value end) as im_normal,
        max(case when parameter = 'recommended_mm_normal' then value end) as mm_normal,
        max(case when parameter = 'recommended_im_high_vol' then value end) as im_high_vol,
        max(case when parameter = 'recommended_mm_high_vol' then value end) as mm_high_vol
    from {{ ref('risk_parameters') }}
    group by 1
),

params as (
    select {{ risk_param('vol_high_threshold') }} as vol_high_threshold
),

recommendation as (
    select
        v.symbol,
        v.business_date,
        i.board,
        i.liquidity_tier,
        v.returns_in_window,
        v.vol_daily,
        v.vol_annualised,
        p.vol_high_threshold,
        coalesce(v.vol_annualised >= p.vol_high_threshold, false) as is_high_vol,
        case when v.vol_annualised >= p.vol_high_threshold then t.im_high_vol else t.im_normal end as recommended_im,
        case when v.vol_annualised >= p.vol_high_threshold then t.mm_high_vol else t.mm_normal end as recommended_mm
    from volatility as v
    cross join params as p
    left join instruments as i on i.symbol = v.symbol and i.snapshot_date = v.business_date
    left join tier_rates as t on t.liquidity_tier = i.liquidity_tier
),

-- financed accounts' positions with the account's own rates and the instrument's recommendation
positions as (
    select
        p.account_id,
        p.business_date,
        p.symbol,
        p.gross_exposure,
        a.equity,
        a.mm_rate,
        a.im_rate,
        case when r.recommended_mm > a.mm_rate then r.recommended_mm else a.mm_rate end as mm_applied,
        case when r.recommended_im > a.im_rate then r.recommended_im else a.im_rate end as im_applied
    from {{ ref('int_positions__daily') }} as p
    inner join {{ ref('int_accounts__daily') }} as a
        on a.account_id = p.account_id and a.business_date = p.business_date
    left join recommendation as r on r.symbol = p.symbol and r.business_date = p.business_date
    where a.has_loan
    {{ in_window('p.business_date') }}
),

accounts as (
    select
        account_id,
        business_date,
        max(equity) as equity,
        sum(gross_exposure * mm_rate) as mm_required_current,
        sum(gross_exposure * mm_applied) as mm_required_recommended,
        sum(gross_exposure * im_applied) as im_required_recommended
    from positions
    group by 1, 2
),

account_flags as (
    select
        account_id,
        business_date,
        equity < mm_required_current as breaches_mm_current,
        equity < mm_required_recommended as breaches_mm_recommended,
        equity < im_required_recommended as below_im_recommended
    from accounts
),

per_symbol as (
    select
        p.symbol,
        p.business_date,
        count(*) as financed_accounts,
        sum(p.gross_exposure) as financed_exposure,
        sum(p.gross_exposure * (p.mm_applied - p.mm_rate)) as additional_mm_required,
        sum(case when f.breaches_mm_current then 1 else 0 end) as accounts_breach_mm_current,
        sum(case when f.breaches_mm_recommended then 1 else 0 end) as accounts_breach_mm_recommended,
        sum(case when f.breaches_mm_recommended and not f.breaches_mm_current then 1 else 0 end) as accounts_new_breach_mm,
        sum(case when f.breaches_mm_recommended and not f.breaches_mm_current then p.gross_exposure else 0 end)
            as new_breach_exposure,
        sum(case when f.below_im_recommended then 1 else 0 end) as accounts_below_im_recommended
    from positions as p
    inner join account_flags as f on f.account_id = p.account_id and f.business_date = p.business_date
    group by 1, 2
)

select
    cast(r.business_date as date) as business_date,
    r.symbol as symbol,
    r.board as board,
    r.liquidity_tier as liquidity_tier,
    cast(r.returns_in_window as integer) as returns_in_window,
    cast(r.vol_daily as double) as vol_daily,
    cast(r.vol_annualised as double) as vol_annualised,
    cast(r.vol_high_threshold as double) as vol_high_threshold,
    cast(r.is_high_vol as boolean) as is_high_vol,
    cast(r.recommended_im as decimal(18, 6)) as recommended_im,
    cast(r.recommended_mm as decimal(18, 6)) as recommended_mm,
    cast(coalesce(s.financed_accounts, 0) as integer) as financed_accounts,
    cast({{ round_half_even('coalesce(s.financed_exposure, 0)', 2) }} as decimal(18, 2)) as financed_exposure,
    cast({{ round_half_even('coalesce(s.additional_mm_required, 0)', 2) }} as decimal(18, 2)) as additional_mm_required,
    cast(coalesce(s.accounts_breach_mm_current, 0) as integer) as accounts_breach_mm_current,
    cast(coalesce(s.accounts_breach_mm_recommended, 0) as integer) as accounts_breach_mm_recommended,
    cast(coalesce(s.accounts_new_breach_mm, 0) as integer) as accounts_new_breach_mm,
    cast({{ round_half_even('coalesce(s.new_breach_exposure, 0)', 2) }} as decimal(18, 2)) as new_breach_exposure,
    cast(coalesce(s.accounts_below_im_recommended, 0) as integer) as accounts_below_im_recommended
from recommendation as r
left join per_symbol as s on s.symbol = r.symbol and s.business_date = r.business_date
