{#- In an incremental run, keep only rows landed after the newest this model holds (after
    the `delete_changed_keys` pre-hook has removed the keys about to be rebuilt, every
    remaining row is older than each of their changes, so this selects exactly them). -#}
{% macro newer_than_built(watermark='last_landed_at') -%}
    {% if is_incremental() %}
        {{ watermark }} > (select coalesce(max({{ watermark }}), '-infinity') from {{ this }})
    {% else %}
        true
    {% endif %}
{%- endmacro %}
