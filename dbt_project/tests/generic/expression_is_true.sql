{#- Every row satisfies `expression` (dbt_utils.expression_is_true without the package). -#}
{% test expression_is_true(model, column_name=none, expression=none) %}
select * from {{ model }} where not coalesce(({{ expression }}), false)
{% endtest %}
