{#- A publisher date written with the month's English abbreviation, "Oct 18, 2019" (the
    FDA Orange Book's way), as a date. Anything else, "Approved Prior to Jan 1, 1982" or
    an impossible date such as "Feb 30, 2019" included, becomes null (pg_input_is_valid
    needs PostgreSQL 16+). -#}
{% macro month_name_date(text_expression) -%}
    {{ return(adapter.dispatch('month_name_date', 'medmirror')(text_expression)) }}
{%- endmacro %}

{#- A month name makes the input unambiguous whatever the server's DateStyle. -#}
{% macro postgres__month_name_date(text_expression) -%}
    case
        when {{ text_expression }} ~ '^[A-Z][a-z]{2} \d{1,2}, \d{4}$'
            and pg_input_is_valid({{ text_expression }}, 'date')
            then cast({{ text_expression }} as date)
    end
{%- endmacro %}
