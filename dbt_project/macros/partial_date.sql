{#- A publisher date that may be a whole date ("2019-05-21") or a month ("2019-05"), as a
    date (a month becomes its first day). Anything else, impossible dates such as
    2019-02-30 included, becomes null (pg_input_is_valid needs PostgreSQL 16+). -#}
{% macro partial_date(text_expression) -%}
    {{ return(adapter.dispatch('partial_date', 'medmirror')(text_expression)) }}
{%- endmacro %}

{% macro postgres__partial_date(text_expression) -%}
    case
        when {{ text_expression }} ~ '^\d{4}-\d{2}-\d{2}$'
            and pg_input_is_valid({{ text_expression }}, 'date')
            then cast({{ text_expression }} as date)
        when {{ text_expression }} ~ '^\d{4}-\d{2}$'
            and pg_input_is_valid({{ text_expression }} || '-01', 'date')
            then cast({{ text_expression }} || '-01' as date)
    end
{%- endmacro %}
