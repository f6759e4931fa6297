{#-
  Every dialect-specific expression lives here behind adapter.dispatch (SPEC §3: the same models
  must run on Spark). Models call these macros, never the engine's own spelling.
-#}

{#- Asia/Shanghai business date of a UTC timestamp (UTC+8, no DST since 1991). -#}
{% macro business_date_of(ts) -%}{{ return(adapter.dispatch('business_date_of', 'marginflow')(ts)) }}{%- endmacro %}
{% macro default__business_date_of(ts) -%}cast({{ dbt.dateadd('hour', 8, ts) }} as date){%- endmacro %}

{#- Seconds between two timestamps, fractional. -#}
{% macro seconds_between(start_ts, end_ts) -%}{{ return(adapter.dispatch('seconds_between', 'marginflow')(start_ts, end_ts)) }}{%- endmacro %}
{% macro default__seconds_between(start_ts, end_ts) -%}((epoch_ms({{ end_ts }}) - epoch_ms({{ start_ts }})) / 1000.0){%- endmacro %}
{% macro spark__seconds_between(start_ts, end_ts) -%}(unix_micros({{ end_ts }}) - unix_micros({{ start_ts }})) / 1e6{%- endmacro %}

{#- Continuous percentile (linear interpolation), SPEC §4. -#}
{% macro percentile_cont(expr, p) -%}{{ return(adapter.dispatch('percentile_cont', 'marginflow')(expr, p)) }}{%- endmacro %}
{% macro default__percentile_cont(expr, p) -%}quantile_cont({{ expr }}, {{ p }}){%- endmacro %}
{% macro spark__percentile_cont(expr, p) -%}percentile({{ expr }}, {{ p }}){%- endmacro %}

{#- Calendar days d with start <= d <= end, one row each, column `day`. -#}
{% macro calendar_days(start_expr, end_expr) -%}{{ return(adapter.dispatch('calendar_days', 'marginflow')(start_expr, end_expr)) }}{%- endmacro %}
{% macro default__calendar_days(start_expr, end_expr) -%}
select cast(d as date) as day from generate_series(cast({{ start_expr }} as date), cast({{ end_expr }} as date), interval 1 day) as t(d)
{%- endmacro %}
{% macro spark__calendar_days(start_expr, end_expr) -%}
select explode(sequence(cast({{ start_expr }} as date), cast({{ end_expr }} as date), interval 1 day)) as day
{%- endmacro %}

{#- Big integer type for exact scaled arithmetic. -#}
{% macro bigint_type() -%}{{ return(adapter.dispatch('bigint_type', 'marginflow')()) }}{%- endmacro %}
{% macro default__bigint_type() -%}hugeint{%- endmacro %}
{% macro spark__bigint_type() -%}decimal(38,0){%- endmacro %}
