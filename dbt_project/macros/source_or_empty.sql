{#- `select * from` a source table (`relation`, a `source()`), or, when nothing has
    landed in it yet, no rows with the given columns: for a source whose release may
    come without one of its files (an ICD-10-CM release with only its tabular XML or
    only its order file), so that its staging views build either way. `columns` maps
    each column to its SQL type. -#}
{% macro source_or_empty(relation, columns) -%}
    {%- if execute and adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) is none -%}
    select
        {%- for name, type in columns.items() %}
        cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    where false
    {%- else -%}
    select * from {{ relation }}
    {%- endif -%}
{%- endmacro %}
