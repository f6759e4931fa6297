{#-
  Σ `column_name` of the model equals Σ `to_expression` of `to`, per the `group_by` columns (named
  the same on both sides; none = one grand total), each side optionally filtered by `model_filter` /
  `to_filter`. A group present on one side only counts as 0 on the other. Returns the groups that
  differ, with both totals. Used to hold a mart to the model it must agree with.
-#}
{% test sums_match(model, column_name, to, to_expression, group_by=[], model_filter=none, to_filter=none) %}
with model_side as (
    select
        {% for c in group_by %}{{ c }}, {% endfor %}
        sum({{ column_name }}) as total
    from {{ model }}
    {% if model_filter %}where {{ model_filter }}{% endif %}
    {% if group_by %}group by {{ group_by | join(', ') }}{% endif %}
),

other_side as (
    select
        {% for c in group_by %}{{ c }}, {% endfor %}
        sum({{ to_expression }}) as total
    from {{ to }}
    {% if to_filter %}where {{ to_filter }}{% endif %}
    {% if group_by %}group by {{ group_by | join(', ') }}{% endif %}
)

select
    {% for c in group_by %}coalesce(m.{{ c }}, o.{{ c }}) as {{ c }}, {% endfor %}
    m.total as model_total,
    o.total as other_total
from model_side as m
full outer join other_side as o
    on {% if group_by %}{% for c in group_by %}m.{{ c }} = o.{{ c }}{% if not loop.last %} and {% endif %}{% endfor %}{% else %}1 = 1{% endif %}
where coalesce(m.total, 0) <> coalesce(o.total, 0)
{% endtest %}
