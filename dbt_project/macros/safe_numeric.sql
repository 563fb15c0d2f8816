{#- A publisher's decimal number ("62", "0.5", ".5") as numeric; anything else null. -#}
{% macro safe_numeric(text_expression) -%}
    {{ return(adapter.dispatch('safe_numeric', 'medmirror')(text_expression)) }}
{%- endmacro %}

{% macro postgres__safe_numeric(text_expression) -%}
    case
        when {{ text_expression }} ~ '^\s*[+-]?(\d{1,15}(\.\d*)?|\.\d{1,15})\s*$'
            then cast({{ text_expression }} as numeric)
    end
{%- endmacro %}
