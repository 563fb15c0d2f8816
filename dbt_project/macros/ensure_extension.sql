{#- Create a PostgreSQL extension if it is missing (a no-op when the warehouse owner
    already made it: the transformer role may not create extensions itself). -#}
{% macro ensure_extension(name) -%}
    {{ return(adapter.dispatch('ensure_extension', 'medmirror')(name)) }}
{%- endmacro %}

{% macro postgres__ensure_extension(name) -%}
    do $ensure$ begin
        if not exists (select from pg_extension where extname = '{{ name }}') then
            create extension {{ name }};
        end if;
    end $ensure$
{%- endmacro %}
