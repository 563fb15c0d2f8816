{#- In an incremental run of a mart with `delete_relinked_keys` as a pre-hook: the keys
    to rebuild because a link to them landed after the newest row the mart holds, and
    that the mart does not hold (any more). Combine with `or` with `newer_than_built()`;
    in a full build false (every key is built anyway). -#}
{% macro relinked_keys(key, links, linked_at='linked_at', watermark='last_landed_at') -%}
    {% if is_incremental() %}
        (
            {{ key }} in (
                select {{ key }}
                from {{ links }}
                where {{ linked_at }} > (
                    select coalesce(max({{ watermark }}), '-infinity') from {{ this }}
                )
            )
            and {{ key }} not in (select {{ key }} from {{ this }})
        )
    {% else %}
        false
    {% endif %}
{%- endmacro %}
