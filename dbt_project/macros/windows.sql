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

{#- Gates judge the run's window: `and <column> between start and end` whenever the run passes a window
    (not only on incremental builds). A partition's gate then answers for that partition's rows, so a
    bad day stops its own run and the repaired days can be re-run one by one in any order; a build
    without a window (`dbt build` by hand, CI) judges every date. -#}
{% macro gate_window(column) -%}
{%- if has_window() -%}
and {{ column }} between cast('{{ var("start_date") }}' as date) and cast('{{ var("end_date") }}' as date)
{%- endif -%}
{%- endmacro %}

{#- The same for something that spans dates (a reconciliation item): it belongs to the window when
    its first..last dates overlap it. -#}
{% macro gate_window_overlaps(first_column, last_column) -%}
{%- if has_window() -%}
and {{ first_column }} <= cast('{{ var("end_date") }}' as date)
and {{ last_column }} >= cast('{{ var("start_date") }}' as date)
{%- endif -%}
{%- endmacro %}
