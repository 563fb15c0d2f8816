{#- A weighted full-text vector over text columns. `weighted` maps a weight (A, B, C, D)
    to the SQL expressions searched with it, e.g. {'A': ['brief_title'], 'C': ['summary']}.
    Give the model a GIN index on it with `indexes=[{'columns': ['search_vector'],
    'type': 'gin'}]`. -#}
{% macro search_vector(weighted, config='english') -%}
    {{ return(adapter.dispatch('search_vector', 'medmirror')(weighted, config)) }}
{%- endmacro %}

{% macro postgres__search_vector(weighted, config) -%}
    {%- set parts = [] -%}
    {%- for weight, expressions in weighted.items() -%}
        {%- for expression in expressions -%}
            {%- do parts.append(
                "setweight(to_tsvector('" ~ config ~ "', coalesce(" ~ expression
                ~ ", '')), '" ~ weight ~ "')"
            ) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ parts | join('\n        || ') }}
{%- endmacro %}
