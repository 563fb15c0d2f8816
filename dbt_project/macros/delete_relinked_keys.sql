{#- A pre-hook beside `delete_changed_keys` for an incremental mart that counts links
    another source states (a trial's articles, an article's trials): it deletes the keys
    with a link that landed after the newest row the mart holds, so the model rebuilds them
    (their filter: `relinked_keys`) with their counts as they are now.

    `links`: the link model (a `ref`), one row per link with `key` and `linked_at` (when
    either side of the link last landed). -#}
{% macro delete_relinked_keys(key, links, linked_at='linked_at', watermark='last_landed_at') -%}
    {% if is_incremental() %}
        delete from {{ this }}
        where {{ key }} in (
            select {{ key }}
            from {{ links }}
            where {{ linked_at }} > (
                select coalesce(max({{ watermark }}), '-infinity') from {{ this }}
            )
        )
    {% endif %}
{%- endmacro %}
