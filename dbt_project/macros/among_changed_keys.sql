{#- In an incremental run, keep only the rows of the keys `changed` lists (a CTE or
    relation with a `key` column, e.g. the keys `newer_than_built` selected); all rows in
    a full build. `= any(array(...))` rather than a join: the key list reaches the raw
    table's index under a staging view, so only the changed keys' documents are read.

    `by_index=false` for a table with no index on the key (a built model): there
    PostgreSQL compares every row with every element of the array (10,000 changed keys
    over 100,000 rows: 24 s), so the keys are a semi-join (`in (select ...)`). -#}
{% macro among_changed_keys(key, changed, by_index=true) -%}
    {% if is_incremental() and by_index %}
        {{ key }} = any(array(select {{ key }} from {{ changed }}))
    {% elif is_incremental() %}
        {{ key }} in (select {{ key }} from {{ changed }})
    {% else %}
        true
    {% endif %}
{%- endmacro %}
