{#- One row for a source: its last committed load (dlt's `_dlt_loads`, as
    `medmirror status` reads it), its newest record (the greatest `cursor` of its main raw
    `table`, as text: a date, a year or a time) and the freshness thresholds dbt declares
    for that table (`warn_after`, `error_after` in its `_<source>__sources.yml`, as
    intervals; null where none). The body of a `stg_<source>__loads` view. -#}
{% macro source_loads(source_name, table, cursor) -%}
{%- set thresholds = {'warn_after': none, 'error_after': none} -%}
{%- if execute -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == source_name and node.name == table -%}
            {%- set rule = node.freshness or {} -%}
            {%- for name in ['warn_after', 'error_after'] -%}
                {%- set after = rule.get(name) or {} -%}
                {%- if after.get('count') and after.get('period') -%}
                    {%- do thresholds.update(
                        {name: "interval '" ~ after['count'] ~ " " ~ after['period'] ~ "'"}
                    ) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
with

loads as (
    select max(inserted_at) as last_loaded_at
    from {{ source(source_name, '_dlt_loads') }}
    where status = 0
),

newest as (
    select cast(max({{ cursor }}) as text) as newest_record
    from {{ source(source_name, table) }}
)

select
    '{{ source_name }}' as source,
    loads.last_loaded_at,
    newest.newest_record,
    {{ thresholds['warn_after'] or 'cast(null as interval)' }} as warn_after,
    {{ thresholds['error_after'] or 'cast(null as interval)' }} as error_after
from loads
cross join newest
{%- endmacro %}
