{#- In an incremental run, keep only the rows of the keys `changed` lists (a CTE or
    relation with a `key` column, e.g. the keys `newer_than_built` selected); all rows in
    a full build. `= any(array(...))` rather than a join: the key list reaches the raw
    table's index under a staging view, so only the changed keys' documents are read. -#}
{% macro among_changed_keys(key, changed) -%}
    {% if is_incremental() %}
        {{ key }} = any(array(select {{ key }} from {{ changed }}))
    {% else %}
        true
    {% endif %}
{%- endmacro %}
