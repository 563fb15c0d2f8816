{#- A publisher's whole number as an integer. Anything that does not parse as one (a word,
    a decimal, a number out of integer range) becomes null instead of failing the model. -#}
{% macro safe_integer(text_expression) -%}
    {{ return(adapter.dispatch('safe_integer', 'medmirror')(text_expression)) }}
{%- endmacro %}

{#- Nested `case`s because PostgreSQL guarantees their order of evaluation (not that of
    `and`): the numeric range check only ever sees digits. -#}
{% macro postgres__safe_integer(text_expression) -%}
    case
        when {{ text_expression }} ~ '^\s*[+-]?\d{1,20}\s*$' then
            case
                when cast({{ text_expression }} as numeric) between -2147483648 and 2147483647
                    then cast({{ text_expression }} as integer)
            end
    end
{%- endmacro %}
