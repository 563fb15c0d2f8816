{#- The Orange Book's product identifier as the marts show it: application type, number
    and product number (`N020702-001`). `relation`: the alias the columns come from. -#}
{% macro orange_book_product_id(relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {{ prefix }}appl_type || {{ prefix }}appl_no || '-' || {{ prefix }}product_no
{%- endmacro %}
