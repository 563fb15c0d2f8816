{#- An NDC as billing systems write it: 11 digits in the 5-4-2 form (`00071-0155-23`).
    A labelled 10-digit package NDC has one of three segment patterns, and the short
    segment gets the leading zero: 4-4-2 (`0071-0155-23` -> `00071-0155-23`), 5-3-2
    (`12345-678-90` -> `12345-0678-90`), 5-4-1 (`12345-6789-1` -> `12345-6789-01`). A
    5-4-2 code stays itself, 11 digits without hyphens are split 5-4-2. A two-segment
    product NDC (4-4, 5-3, 5-4) becomes its 5-4 form the same way. Anything else (a
    10-digit code without hyphens is ambiguous) becomes null. -#}
{% macro ndc_11_digit(text_expression) -%}
    {{ return(adapter.dispatch('ndc_11_digit', 'medmirror')(text_expression)) }}
{%- endmacro %}

{% macro postgres__ndc_11_digit(text_expression) -%}
    {%- set ndc = "trim(" ~ text_expression ~ ")" -%}
    case
        when {{ ndc }} ~ '^(\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1,2})$'
            then lpad(split_part({{ ndc }}, '-', 1), 5, '0')
                || '-' || lpad(split_part({{ ndc }}, '-', 2), 4, '0')
                || '-' || lpad(split_part({{ ndc }}, '-', 3), 2, '0')
        when {{ ndc }} ~ '^\d{11}$'
            then substr({{ ndc }}, 1, 5) || '-' || substr({{ ndc }}, 6, 4)
                || '-' || substr({{ ndc }}, 10, 2)
        when {{ ndc }} ~ '^(\d{4}-\d{4}|\d{5}-\d{3,4})$'
            then lpad(split_part({{ ndc }}, '-', 1), 5, '0')
                || '-' || lpad(split_part({{ ndc }}, '-', 2), 4, '0')
    end
{%- endmacro %}
