{#- A lateral subquery giving `expression` (a jsonb column) decompressed once per row:
    `cross join lateral ({{ detoast('landed.record') }}) as document`.

    A large document is stored compressed out of line (TOAST). Without this, each of a
    staging model's `record #>> '{...}'` expressions decompresses the whole document again
    (measured: 16x slower on ClinicalTrials.gov studies). `offset 0` keeps the planner
    from folding the copy back into those expressions (`limit all`, no limit, is there
    for sqlfluff, which parses an `offset` only after a `limit`). -#}
{% macro detoast(expression, alias='record') -%}
    {{ return(adapter.dispatch('detoast', 'medmirror')(expression, alias)) }}
{%- endmacro %}

{% macro postgres__detoast(expression, alias) -%}
    select {{ expression }} || '{}'::jsonb as {{ alias }} limit all offset 0
{%- endmacro %}
