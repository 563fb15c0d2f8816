{#- openFDA's compact date ("20140715") as a date; anything else, impossible dates
    included, becomes null instead of failing the model. -#}
{% macro yyyymmdd_date(text_expression) -%}
    {{ return(adapter.dispatch('yyyymmdd_date', 'medmirror')(text_expression)) }}
{%- endmacro %}

{% macro postgres__yyyymmdd_date(text_expression) -%}
    case
        when {{ text_expression }} ~ '^\d{8}$'
            and pg_input_is_valid({{ text_expression }}, 'date')
            then cast({{ text_expression }} as date)
    end
{%- endmacro %}
