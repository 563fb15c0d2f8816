{#- The current state of every key landed in a source: its latest version and whether it
    is deleted. The body of an `int_<entities>_deduplicated` model.

    `landed`: the staging view (a `ref`), one row per landed version or deletion notice,
    with `loaded_at` and `is_deletion_notice`; `key`: its natural key; `newest_first`:
    the order of a key's versions, latest first (e.g. the publisher's update date, then
    `loaded_at desc`). A key is deleted when its latest landing is a deletion notice (a
    notice in the same load as a version deletes it too: an update file lists its
    deletions after its records). Adds `last_landed_at`, `last_deleted_at` and `is_deleted`.

    In an incremental model (`unique_key` = `key`, strategy `delete+insert`) a run
    rebuilds only the keys with something landed since the previous run, from their
    whole landed history, so late older versions and deletions resolve as in a full build.
-#}
{% macro current_versions(landed, key, newest_first) -%}
with

landed_rows as (
    select * from {{ landed }}
),

{% if is_incremental() %}
-- A second import of the same view (not `landed_rows` again): PostgreSQL materialises a
-- CTE used twice, which would decompress every landed document on each run.
landed_keys as (
    select {{ key }}, loaded_at from {{ landed }}
),

changed_keys as (
    select distinct {{ key }}
    from landed_keys
    where loaded_at > (select coalesce(max(last_landed_at), '-infinity') from {{ this }})
),

-- `= any(array(...))` rather than a join: the key list reaches the raw table's index,
-- so only the changed keys' documents are read.
landings as (
    select * from landed_rows
    where {{ key }} = any(array(select {{ key }} from changed_keys))
),
{% else %}
landings as (
    select * from landed_rows
),
{% endif %}

landings_with_history as (
    select
        *,
        max(loaded_at) over (partition by {{ key }}) as last_landed_at,
        max(case when is_deletion_notice then loaded_at end)
            over (partition by {{ key }}) as last_deleted_at
    from landings
),

versions as (
    select * from landings_with_history
    where not is_deletion_notice
),

latest_versions as (
    {{ latest_per_key('versions', key, newest_first) }}
),

current_versions as (
    select
        *,
        coalesce(last_deleted_at >= last_landed_at, false) as is_deleted
    from latest_versions
)

select * from current_versions
{%- endmacro %}
