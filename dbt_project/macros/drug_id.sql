{#- A drug's key from its ingredient key (the sorted active-moiety UNIIs joined by `+`,
    `name:<NORMALISED NAME>` for a moiety without a UNII): the first 16 hex digits of its
    MD5. The same ingredient set always gives the same id, whatever label or source
    describes it; RxNorm ids or brand names never enter it. -#}
{% macro drug_id(ingredient_key_expression) -%}
    left(md5({{ ingredient_key_expression }}), 16)
{%- endmacro %}
