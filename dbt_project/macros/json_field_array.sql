{#- One field of each object in a JSON array, in the array's order, as a text array:
    `json_field_array("record -> 'publication_types'", 'name')`. Empty when the JSON is
    absent or not an array; objects without the field are left out. -#}
{% macro json_field_array(json_expression, field) -%}
    {{ return(adapter.dispatch('json_field_array', 'medmirror')(json_expression, field)) }}
{%- endmacro %}

{% macro postgres__json_field_array(json_expression, field) -%}
    array(
        select element.item ->> '{{ field }}'
        from jsonb_array_elements(
            {{ json_array(json_expression) }}
        ) with ordinality as element (item, position)
        where element.item ->> '{{ field }}' is not null
        order by element.position
    )
{%- endmacro %}
