{#- A JSON array of strings as a text array (an empty array when the JSON is absent). -#}
{% macro json_text_array(json_expression) -%}
    {{ return(adapter.dispatch('json_text_array', 'medmirror')(json_expression)) }}
{%- endmacro %}

{% macro postgres__json_text_array(json_expression) -%}
    array(
        select jsonb_array_elements_text(coalesce({{ json_expression }}, '[]'::jsonb))
    )
{%- endmacro %}
