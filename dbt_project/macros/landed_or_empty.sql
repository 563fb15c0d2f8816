{#- Every row of a raw table, or no rows (with the same columns) when the table does not
    exist yet: a source with several ways in (FAERS quarterly files and the openFDA API)
    creates each raw table only when that way in first lands something, and the staging
    views must build either way. `columns`: name -> SQL type of the columns to read. -#}
{% macro landed_or_empty(relation, columns) -%}
    {%- set found = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) if execute else relation -%}
    {%- if found -%}
    select {% for name in columns %}{{ adapter.quote(name) }}{{ ", " if not loop.last }}{% endfor %}
    from {{ relation }}
    {%- else -%}
    select {% for name, type in columns.items() -%}
        cast(null as {{ type }}) as {{ adapter.quote(name) }}{{ ", " if not loop.last }}
    {%- endfor %}
    where false
    {%- endif -%}
{%- endmacro %}
