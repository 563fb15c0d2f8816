{#- A model's `sql_header`: its statement plans no nested-loop join. For the incremental
    FAERS marts, which read the changed cases' rows through `= any(array(...))` (to reach
    the raw tables' indexes): the planner cannot count such a list, estimates a few rows,
    and then nests each changed case's rows under every other's (10,000 new cases of a
    quarter: 20 to 75 s per mart instead of one or two). Postgres: `set local`, for the
    transaction dbt builds the model in. -#}
{% macro without_nested_loops() -%}
    {{ return(adapter.dispatch('without_nested_loops', 'medmirror')()) }}
{%- endmacro %}

{% macro default__without_nested_loops() -%}
{%- endmacro %}

{% macro postgres__without_nested_loops() -%}
    set local enable_nestloop = off;
{%- endmacro %}
