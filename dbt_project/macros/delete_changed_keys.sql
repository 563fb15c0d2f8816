{#- Incremental models here rebuild whole keys: every key with a landing newer than what
    the model already holds is deleted (this macro, run as a pre-hook) and inserted again
    from the current state of its upstream (the model's own filter, `newer_than_built`).

    `changes`: the upstream relation with one row per key and `watermark` (the last time
    anything landed for that key), or a list of such relations (a model keyed by a set id
    that two sources land: a key changed in either is rebuilt). Deleting first also
    removes keys that are gone upstream (deleted studies) or produce no rows any more (a
    study without conditions). -#}
{% macro delete_changed_keys(key, changes, watermark='last_landed_at') -%}
    {% if is_incremental() %}
        {%- set relations = changes if changes is sequence and changes is not string
            else [changes] %}
        delete from {{ this }}
        where {{ key }} in (
            {%- for relation in relations %}
            select {{ key }}
            from {{ relation }}
            where {{ watermark }} > (
                select coalesce(max({{ watermark }}), '-infinity') from {{ this }}
            )
            {%- if not loop.last %}
            union all
            {%- endif %}
            {%- endfor %}
        )
    {% endif %}
{%- endmacro %}
