{#- An ACS estimate (a string in the Census API's answer) as numeric; null when it is one
    of the Census annotation values (-999999999, -888888888, -666666666, -555555555,
    -333333333, -222222222: no estimate could be computed, too few sample cases, ...),
    which the estimates medmirror reads (counts, dollars) never are otherwise. -#}
{% macro census_estimate(text_expression) -%}
    {{ return(adapter.dispatch('census_estimate', 'medmirror')(text_expression)) }}
{%- endmacro %}

{% macro default__census_estimate(text_expression) -%}
    case
        when {{ safe_numeric(text_expression) }} >= 0 then {{ safe_numeric(text_expression) }}
    end
{%- endmacro %}
