{#-
  Incremental windows. A Dagster partition run passes its window (business dates; a monthly run the
  month's first and last day) in the environment, MARGINFLOW_WINDOW_START / MARGINFLOW_WINDOW_END;
  by hand, `--vars '{start_date: …, end_date: …}'` does the same and wins. Without a window a model
  rebuilds everything and a gate judges every date.

  The environment is read only at execution (`execute`): a value that dbt sees while parsing is
  recorded in the manifest, and a new window (or any --vars) would then cost a full re-parse of the
  project on every run instead of dbt's partial parsing.
-#}

{% macro window_bound(which) -%}
{%- set value = var(which ~ '_date', '') -%}
{%- if value == '' and execute -%}
  {%- set value = env_var('MARGINFLOW_WINDOW_' ~ (which | upper), '') -%}
{%- endif -%}
{{ return(value) }}
{%- endmacro %}

{% macro window_start() -%}{{ return(window_bound('start')) }}{%- endmacro %}
{% macro window_end() -%}{{ return(window_bound('end')) }}{%- endmacro %}

{% macro has_window() -%}
{{ return(window_start() != '' and window_end() != '') }}
{%- endmacro %}

{#- `and <column> between start and end` on incremental runs with a window, nothing otherwise. -#}
{% macro in_window(column) -%}
{%- if is_incremental() and has_window() -%}
and {{ column }} between cast('{{ window_start() }}' as date) and cast('{{ window_end() }}' as date)
{%- endif -%}
{%- endmacro %}

{#- Months touched by the window (for monthly marts keyed by `month`, the first day of the month). -#}
{% macro in_month_window(column) -%}
{%- if is_incremental() and has_window() -%}
and {{ column }} between cast(date_trunc('month', cast('{{ window_start() }}' as date)) as date)
                     and cast(date_trunc('month', cast('{{ window_end() }}' as date)) as date)
{%- endif -%}
{%- endmacro %}

{#- Gates judge the run's window: `and <column> between start and end` whenever the run passes a window
    (not only on incremental builds). A partition's gate then answers for that partition's rows, so a
    bad day stops its own run and the repaired days can be re-run one by one in any order; a build
    without a window (`dbt build` by hand, CI) judges every date. -#}
{% macro gate_window(column) -%}
{%- if has_window() -%}
and {{ column }} between cast('{{ window_start() }}' as date) and cast('{{ window_end() }}' as date)
{%- endif -%}
{%- endmacro %}

{#- The same for something that spans dates (a reconciliation item): it belongs to the window when
    its first..last dates overlap it. -#}
{% macro gate_window_overlaps(first_column, last_column) -%}
{%- if has_window() -%}
and {{ first_column }} <= cast('{{ window_end() }}' as date)
and {{ last_column }} >= cast('{{ window_start() }}' as date)
{%- endif -%}
{%- endmacro %}
