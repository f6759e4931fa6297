-- 20-day realised volatility per instrument and business date (M8 vol_shock, M16): the sample
-- standard deviation of the last 20 daily log returns close/previous close, and × √(annualisation
-- days) annualised. The window is the instrument's own last 20 returns (a missing price day is
-- skipped, not counted as a zero return). Fewer than `vol_min_returns` returns: no volatility.
-- Reproducible to the bit: each log return is rounded to 12 dp (DECIMAL) and the window's Σr and Σr²
-- are summed exactly, so the result does not depend on the order the engine adds DOUBLEs in (a DOUBLE
-- window stddev_samp differed in the last bit between a full build and a partition rerun).
with prices as (
    select
        symbol,
        business_date,
        close_price,
        limit_status,
        lag(close_price) over (partition by symbol order by business_date) as previous_close
    from {{ ref('stg_market__prices') }}
),

returns as (
    select
        *,
        {{ ratio_to_decimal(log_return('close_price', 'previous_close'), 12) }} as log_return
    from prices
),

windowed as (
    select
        *,
        -- 20 rows = the current return and the 19 before it (the first row's NULL return is not counted)
        count(log_return) over w as returns_in_window,
        sum(log_return) over w as sum_r,
        sum(log_return * log_return) over w as sum_r2
    from returns
    window w as (partition by symbol order by business_date rows between 19 preceding and current row)
),

params as (
    select
        {{ risk_param('vol_min_returns') }} as vol_min_returns,
        {{ risk_param('annualisation_days') }} as annualisation_days
),

-- sample variance = (n·Σr² − (Σr)²) / (n·(n − 1)); the numerator is exact, then DOUBLE
stdev as (
    select
        *,
        case when returns_in_window >= 2
             then sqrt(greatest(cast(returns_in_window * sum_r2 - sum_r * sum_r as double), 0)
                       / (returns_in_window * (returns_in_window - 1))) end as stdev_in_window
    from windowed
)

select
    w.symbol,
    w.business_date,
    w.close_price,
    w.previous_close,
    w.limit_status,
    cast(w.log_return as double) as log_return,
    w.returns_in_window,
    case when w.returns_in_window >= p.vol_min_returns then w.stdev_in_window end as vol_daily,
    case when w.returns_in_window >= p.vol_min_returns
         then w.stdev_in_window * sqrt(cast(p.annualisation_days as double)) end as vol_annualised
from stdev as w
cross join params as p
