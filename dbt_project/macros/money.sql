{#-
  Exact decimal arithmetic. Many engines (DuckDB among them) turn DECIMAL / DECIMAL into a binary
  float; money must not go through one. These macros keep every step in scaled integers.
-#}

{%- macro _pow10(n) -%}{{ '1' ~ ('0' * n) }}{%- endmacro -%}
{%- macro _unit(scale) -%}{% if scale == 0 %}1{% else %}{{ '0.' ~ ('0' * (scale - 1)) ~ '1' }}{% endif %}{%- endmacro -%}

{#- Round a DECIMAL half-even to `scale` places, staying DECIMAL(38, scale). -#}
{% macro round_half_even(x, scale=2) -%}
cast(
  (
    trunc(({{ x }}) * {{ _pow10(scale) }})
    + case
        when abs(({{ x }}) * {{ _pow10(scale) }} - trunc(({{ x }}) * {{ _pow10(scale) }})) > 0.5 then sign({{ x }})
        when abs(({{ x }}) * {{ _pow10(scale) }} - trunc(({{ x }}) * {{ _pow10(scale) }})) = 0.5
          then case when cast(trunc(({{ x }}) * {{ _pow10(scale) }}) as {{ bigint_type() }}) % 2 = 0 then 0 else sign({{ x }}) end
        else 0
      end
  ) * {{ _unit(scale) }}
as decimal(38, {{ scale }}))
{%- endmacro %}

{#-
  num / den rounded half-even to `scale` places, exactly. num and den are DECIMALs with at most
  `in_scale` decimal places (default 12); |num| < 1e14. NULL when den = 0.
-#}
{% macro div_half_even(num, den, scale=6, in_scale=12) -%}
(case when ({{ den }}) = 0 then null else
  sign({{ num }}) * sign({{ den }}) * cast(
    (
      (abs(cast(({{ num }}) * {{ _pow10(in_scale) }} as {{ bigint_type() }})) * {{ _pow10(scale) }})
        // abs(cast(({{ den }}) * {{ _pow10(in_scale) }} as {{ bigint_type() }}))
      + case
          when 2 * ((abs(cast(({{ num }}) * {{ _pow10(in_scale) }} as {{ bigint_type() }})) * {{ _pow10(scale) }})
                    % abs(cast(({{ den }}) * {{ _pow10(in_scale) }} as {{ bigint_type() }})))
               > abs(cast(({{ den }}) * {{ _pow10(in_scale) }} as {{ bigint_type() }})) then 1
          when 2 * ((abs(cast(({{ num }}) * {{ _pow10(in_scale) }} as {{ bigint_type() }})) * {{ _pow10(scale) }})
                    % abs(cast(({{ den }}) * {{ _pow10(in_scale) }} as {{ bigint_type() }})))
               = abs(cast(({{ den }}) * {{ _pow10(in_scale) }} as {{ bigint_type() }}))
            then ((abs(cast(({{ num }}) * {{ _pow10(in_scale) }} as {{ bigint_type() }})) * {{ _pow10(scale) }})
                  // abs(cast(({{ den }}) * {{ _pow10(in_scale) }} as {{ bigint_type() }}))) % 2
          else 0
        end
    ) * {{ _unit(scale) }}
  as decimal(38, {{ scale }}))
end)
{%- endmacro %}

{#- A ratio for presentation and thresholds (DOUBLE is allowed for ratios, SPEC §1). -#}
{% macro safe_ratio(num, den) -%}
case when ({{ den }}) is null or ({{ den }}) = 0 then null else cast({{ num }} as double) / cast({{ den }} as double) end
{%- endmacro %}
