{#- A JSON value as an array to expand with `jsonb_array_elements`: the value itself when it
    is an array, an empty array when it is absent, null or anything else (a publisher's
    schema change never breaks a model). -#}
{% macro json_array(json_expression) -%}
    {{ return(adapter.dispatch('json_array', 'medmirror')(json_expression)) }}
{%- endmacro %}

{% macro postgres__json_array(json_expression) -%}
    case jsonb_typeof({{ json_expression }})
        when 'array' then {{ json_expression }}
        else '[]'::jsonb
    end
{%- endmacro %}
