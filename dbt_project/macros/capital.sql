{#-
  Capital and credit helpers: the loss order of the tranches, the §1.2 loss waterfall's pro-rata
  shares with the rounding-remainder rule, and the calendar facts the income waterfall needs.
  Dialect-specific spellings go through adapter.dispatch (SPEC §3).
-#}

{#- Loss order (SPEC §1.2): JUNIOR bears first, then MEZZANINE, then SENIOR. -#}
{% macro tranche_loss_rank(tranche) -%}
case {{ tranche }} when 'JUNIOR' then 1 when 'MEZZANINE' then 2 when 'SENIOR' then 3 else 4 end
{%- endmacro %}

{#- ISO day of week, Monday = 1 … Sunday = 7. -#}
{% macro iso_day_of_week(d) -%}{{ return(adapter.dispatch('iso_day_of_week', 'marginflow')(d)) }}{%- endmacro %}
{% macro default__iso_day_of_week(d) -%}isodow({{ d }}){%- endmacro %}
{% macro spark__iso_day_of_week(d) -%}((dayofweek({{ d }}) + 5) % 7 + 1){%- endmacro %}

{#- The last Monday-to-Friday day of the month of `d` (the generator's and the waterfall's month end). -#}
{% macro last_weekday_of_month(d) -%}
cast({{ dbt.dateadd('day',
    '-(case ' ~ iso_day_of_week(dbt.last_day(d, 'month')) ~ ' when 6 then 1 when 7 then 2 else 0 end)',
    dbt.last_day(d, 'month')) }} as date)
{%- endmacro %}

{#-
  Pro-rata shares of a loss along the tranche waterfall (SPEC §1.2), one row per provider in, one
  row per provider out with `allocated` (DECIMAL(18,2)).

  relation      a FROM item (table, CTE or parenthesised subquery with an alias) with one row per
                allocation group (`partition_by`) and provider;
  amount        the amount to allocate (the same on every row of a group);
  cap           the provider's capital balance: only providers with cap > 0 take part, and a tranche
                bears at most the sum of its caps before the next tranche is reached;
  weight        the pro-rata weight inside a tranche (the capital balance for a default; capital·days
                for the income waterfall's shortfall).

  Each share is rounded half-even to 0.01; the provider with the largest weight (then the lowest
  provider_id) takes the tranche's rounding remainder, so the shares add up to the tranche's part.
  Window frames only (no aggregation), so the macro also works inside a recursive CTE's step.
-#}
{% macro loss_waterfall_shares(relation, partition_by, amount, cap, weight, tranche='tranche', provider_id='provider_id') -%}
select
    s2.*,
    cast(
        s2._pro_rata_share
        + case when s2._eligible and s2._remainder_rank = 1 and s2._tranche_weight > 0
               then s2._tranche_take - s2._tranche_shares else 0 end
    as decimal(18, 2)) as allocated,
    s2._eligible and s2._remainder_rank = 1 and s2._tranche_take > 0 and s2._tranche_weight > 0 as takes_remainder
from (
    select
        s1.*,
        sum(s1._pro_rata_share) over (partition by {{ partition_by }}, s1._tranche_rank) as _tranche_shares
    from (
        select
            s0.*,
            case
                when s0._eligible and s0._tranche_weight > 0
                    then {{ div_half_even('s0._tranche_take * s0._weight', 's0._tranche_weight', 2, 6) }}
                else cast(0 as decimal(38, 2))
            end as _pro_rata_share
        from (
            select
                t.*,
                -- what reaches this tranche = the amount less the caps of the tranches before it,
                -- at most this tranche's cap
                cast(greatest(least(t._amount - (t._caps_through - t._tranche_cap), t._tranche_cap), 0)
                    as decimal(38, 2)) as _tranche_take
            from (
                select
                    r.*,
                    cast({{ amount }} as decimal(38, 2)) as _amount,
                    cast({{ weight }} as decimal(38, 2)) as _weight,
                    {{ tranche_loss_rank('r.' ~ tranche) }} as _tranche_rank,
                    {{ cap }} > 0 as _eligible,
                    sum(case when {{ cap }} > 0 then {{ cap }} else 0 end)
                        over (partition by {{ partition_by }}, {{ tranche_loss_rank('r.' ~ tranche) }}) as _tranche_cap,
                    sum(case when {{ cap }} > 0 then {{ weight }} else 0 end)
                        over (partition by {{ partition_by }}, {{ tranche_loss_rank('r.' ~ tranche) }}) as _tranche_weight,
                    sum(case when {{ cap }} > 0 then {{ cap }} else 0 end)
                        over (partition by {{ partition_by }} order by {{ tranche_loss_rank('r.' ~ tranche) }}
                              range between unbounded preceding and current row) as _caps_through,
                    row_number() over (
                        partition by {{ partition_by }}, {{ tranche_loss_rank('r.' ~ tranche) }}
                        order by case when {{ cap }} > 0 then 0 else 1 end, {{ weight }} desc, r.{{ provider_id }}
                    ) as _remainder_rank
                from {{ relation }} as r
            ) as t
        ) as s0
    ) as s1
) as s2
{%- endmacro %}

{#-
  A DECIMAL with at most `scale` decimal places as an exact integer count of 10^-scale units (the
  income waterfall works in integers so that products of balances, days and rates cannot overflow
  a DECIMAL(38) or lose a digit).
-#}
{% macro to_units(x, scale) -%}
cast(({{ x }}) * {{ '1' ~ ('0' * scale) }} as {{ bigint_type() }})
{%- endmacro %}
