{#- A publisher's true/false as a boolean (JSON true/false, and the spellings PostgreSQL
    accepts: t/f, yes/no, y/n, on/off, 1/0, any case). Anything else becomes null instead
    of failing the model. -#}
{% macro safe_boolean(text_expression) -%}
    {{ return(adapter.dispatch('safe_boolean', 'medmirror')(text_expression)) }}
{%- endmacro %}

{% macro postgres__safe_boolean(text_expression) -%}
    case lower(trim({{ text_expression }}))
        when 'true' then true
        when 't' then true
        when 'yes' then true
        when 'y' then true
        when 'on' then true
        when '1' then true
        when 'false' then false
        when 'f' then false
        when 'no' then false
        when 'n' then false
        when 'off' then false
        when '0' then false
    end
{%- endmacro %}
