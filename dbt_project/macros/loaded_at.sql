{#- When dlt loaded a raw row: its `_dlt_load_id` is the load's Unix time. -#}
{% macro loaded_at(load_id_column='_dlt_load_id') -%}
    {{ return(adapter.dispatch('loaded_at', 'medmirror')(load_id_column)) }}
{%- endmacro %}

{% macro default__loaded_at(load_id_column) -%}
    to_timestamp(cast({{ load_id_column }} as double precision))
{%- endmacro %}
