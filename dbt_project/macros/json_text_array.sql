{#- A JSON array of strings as a text array: empty when the JSON is absent, one element
    when a publisher sends a single string instead of an array. -#}
{% macro json_text_array(json_expression) -%}
    {{ return(adapter.dispatch('json_text_array', 'medmirror')(json_expression)) }}
{%- endmacro %}

{% macro postgres__json_text_array(json_expression) -%}
    case jsonb_typeof({{ json_expression }})
        when 'array' then array(select jsonb_array_elements_text({{ json_expression }}))
        when 'string' then array[{{ json_expression }} #>> '{}']
        else cast(array[] as text[])
    end
{%- endmacro %}
