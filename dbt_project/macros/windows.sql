{#-
  Incremental windows. A Dagster partition run passes vars start_date/end_date (business dates; a
  monthly run passes the month's first and last day); without them a model rebuilds everything.
-#}

{% macro has_window() -%}
{{ return(var('start_date', '') != '' and var('end_date', '') != '') }}
{%- endmacro %}

{#- `and <column> between start and end` on incremental runs with a window, nothing otherwise. -#}
{% macro in_window(column) -%}
{%- if is_incremental() and has_window() -%}
and {{ column }} between cast('{{ var("start_date") }}' as date) and cast('{{ var("end_date") }}' as date)
{%- endif -%}
{%- endmacro %}

{#- Months touched by the window (for monthly marts keyed by `month`, the first day of the month). -#}
{% macro in_month_window(column) -%}
{%- if is_incremental() and has_window() -%}
and {{ column }} between cast(date_trunc('month', cast('{{ var("start_date") }}' as date)) as date)
                     and cast(date_trunc('month', cast('{{ var("end_date") }}' as date)) as date)
{%- endif -%}
{%- endmacro %}
