{#- A date written YYYYMMDD (FAERS, openFDA) as a date. A partial date (YYYYMM, YYYY: FAERS
    keeps what the reporter knew) or an impossible one becomes null. -#}
{% macro compact_date(text_expression) -%}
    {{ return(adapter.dispatch('compact_date', 'medmirror')(text_expression)) }}
{%- endmacro %}

{% macro postgres__compact_date(text_expression) -%}
    case
        when {{ text_expression }} ~ '^\d{8}$'
            and pg_input_is_valid({{ text_expression }}, 'date')
            then to_date({{ text_expression }}, 'YYYYMMDD')
    end
{%- endmacro %}
