{#- A pre-hook beside `delete_changed_keys` for an incremental model with columns that
    no landing watermark covers: values another model recomputes in full every run (the
    drugs a label describes change when the drugs are consolidated anew, without the
    label landing again). It deletes the keys whose stored `columns` differ from the
    current ones; the model then builds the keys it does not hold.

    `current`: a relation (a `ref`) with one row per key the model holds, with `key` and
    `columns` as the model would build them now. -#}
{% macro delete_changed_values(key, current, columns) -%}
    {% if is_incremental() %}
        delete from {{ this }} as built
        using {{ current }} as current_values
        where
            built.{{ key }} = current_values.{{ key }}
            and (
                {%- for column in columns %}
                built.{{ column }}{{ ',' if not loop.last }}
                {%- endfor %}
            ) is distinct from (
                {%- for column in columns %}
                current_values.{{ column }}{{ ',' if not loop.last }}
                {%- endfor %}
            )
    {% endif %}
{%- endmacro %}
