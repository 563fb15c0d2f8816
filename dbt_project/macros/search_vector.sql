{#- A weighted full-text vector over text columns. `weighted` maps a weight (A, B, C, D)
    to the SQL expressions searched with it, e.g. {'A': ['brief_title'], 'C': ['summary']}.
    Give the model a GIN index on it with `indexes=[{'columns': ['search_vector'],
    'type': 'gin'}]`.

    A tsvector holds at most 1 MB: the vector indexes a bounded prefix of each text (the
    budget `search_text_budget_chars`, 500,000 characters by default, shared by the
    expressions), so one oversized document can never fail the build. The full text stays
    in its column. -#}
{% macro search_vector(weighted, config='english') -%}
    {{ return(adapter.dispatch('search_vector', 'medmirror')(weighted, config)) }}
{%- endmacro %}

{% macro postgres__search_vector(weighted, config) -%}
    {%- set expressions = [] -%}
    {%- for weight, listed in weighted.items() -%}
        {%- for expression in listed -%}
            {%- do expressions.append((weight, expression)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set prefix = (var('search_text_budget_chars', 500000) // (expressions | length)) -%}
    {%- set parts = [] -%}
    {%- for weight, expression in expressions -%}
        {%- do parts.append(
            "setweight(to_tsvector('" ~ config ~ "', left(coalesce(" ~ expression
            ~ ", ''), " ~ prefix ~ ")), '" ~ weight ~ "')"
        ) -%}
    {%- endfor -%}
    {{ parts | join('\n        || ') }}
{%- endmacro %}
