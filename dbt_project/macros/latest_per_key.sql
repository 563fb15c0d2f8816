{#- The latest row of each key of `relation`: `order_by` decides which row is latest. -#}
{% macro latest_per_key(relation, key, order_by) -%}
    {{ return(adapter.dispatch('latest_per_key', 'medmirror')(relation, key, order_by)) }}
{%- endmacro %}

{% macro default__latest_per_key(relation, key, order_by) -%}
    select *
    from (
        select
            *,
            row_number() over (partition by {{ key }} order by {{ order_by }}) as _version_rank
        from {{ relation }}
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{% macro postgres__latest_per_key(relation, key, order_by) -%}
    select distinct on ({{ key }}) *
    from {{ relation }}
    order by {{ key }}, {{ order_by }}
{%- endmacro %}
