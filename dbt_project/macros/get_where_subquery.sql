{#- dbt's own `get_where_subquery` (a test's `where` config around the tested relation),
    with one placeholder resolved when the test runs: `__untested_landings(schema.table)__`
    becomes `untested_landings(...)` (a test config's Jinja is rendered when the project
    is parsed, before any table can be read). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set placeholder = modules.re.search(
            '__untested_landings\\((\\w+)\\.(\\w+)\\)__', where
        ) -%}
        {%- if placeholder -%}
            {%- set where = where | replace(
                placeholder.group(0),
                untested_landings([placeholder.group(1), placeholder.group(2)]),
            ) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) as dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
