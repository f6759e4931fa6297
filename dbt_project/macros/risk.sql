{#-
  Macros of the liquidation / stress / liquidity marts (M6–M9, M14–M16). Dialect-specific spellings
  sit behind adapter.dispatch like macros/portable.sql (SPEC §3); the rest is plain portable SQL.
-#}

{#- Whole milliseconds between two timestamps (BIGINT, exact): the feeds carry millisecond times and
    epoch() differences in DOUBLE lose the last digit at today's epoch (1.7e9 s). -#}
{% macro milliseconds_between(start_ts, end_ts) -%}{{ return(adapter.dispatch('milliseconds_between', 'marginflow')(start_ts, end_ts)) }}{%- endmacro %}
{% macro default__milliseconds_between(start_ts, end_ts) -%}(epoch_ms({{ end_ts }}) - epoch_ms({{ start_ts }})){%- endmacro %}
{% macro spark__milliseconds_between(start_ts, end_ts) -%}(unix_millis({{ end_ts }}) - unix_millis({{ start_ts }})){%- endmacro %}

{#- Natural log of a price relative, DOUBLE (a ratio, SPEC §1 allows binary floats for ratios). -#}
{% macro log_return(price, previous_price) -%}{{ return(adapter.dispatch('log_return', 'marginflow')(price, previous_price)) }}{%- endmacro %}
{% macro default__log_return(price, previous_price) -%}
case when ({{ previous_price }}) > 0 and ({{ price }}) > 0 then ln(cast({{ price }} as double) / cast({{ previous_price }} as double)) end
{%- endmacro %}

{#- A DOUBLE ratio as a DECIMAL(38, scale): money × it stays decimal, and sums of it are exact (order-free). -#}
{% macro ratio_to_decimal(x, scale=12) -%}
cast(round(cast({{ x }} as double), {{ scale }}) as decimal(38, {{ scale }}))
{%- endmacro %}

{#-
  base ^ exponent for a small non-negative integer exponent, exactly in DECIMAL(38,18) (no power() on
  doubles: a compounded limit move 1 − 0.9³ must be 0.271, not 0.27099999…). NULL beyond max_exponent.
-#}
{% macro decimal_power(base, exponent, max_exponent=10) -%}
case {{ exponent }}
    when 0 then cast(1 as decimal(38, 18))
{%- for n in range(1, max_exponent + 1) %}
    when {{ n }} then {% for _ in range(n - 1) %}cast({% endfor %}cast({{ base }} as decimal(38, 18)){% for _ in range(n - 1) %} * cast({{ base }} as decimal(38, 18)) as decimal(38, 18)){% endfor %}
{%- endfor %}
end
{%- endmacro %}

{#- One value of the `risk_parameters` seed as a scalar subquery (scope ALL unless given). -#}
{% macro risk_param(name, scope='ALL') -%}
(select max(value) from {{ ref('risk_parameters') }} where parameter = '{{ name }}' and scope = '{{ scope }}')
{%- endmacro %}

{#-
  Rows whose life [start_col, end_col] overlaps the run's window (end_col NULL = still running).
  Incremental runs with a window only; nothing otherwise (a full build takes every row).
-#}
{% macro overlaps_window(start_col, end_col) -%}
{%- if is_incremental() and has_window() -%}
and {{ start_col }} <= cast('{{ window_end() }}' as date)
and coalesce({{ end_col }}, cast('9999-12-31' as date)) >= cast('{{ window_start() }}' as date)
{%- endif -%}
{%- endmacro %}
