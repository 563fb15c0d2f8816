{#- The latest complete landing of a snapshot source's table, as one row (`released_at`,
    `load_id`): its newest release, then its newest landing of that release, among the
    loads dlt recorded as complete. Each release file lands in one load, so the rows of
    that load are the table's whole current snapshot.

    `landings`: a relation with `released_at` and `load_id` per landed row (give it an
    import of the staging view of its own, so that PostgreSQL does not materialise the
    view for a second use); `loads`: a relation with `load_id` and `is_complete`. -#}
{% macro latest_complete_release(landings, loads) -%}
    select
        landings.released_at,
        landings.load_id
    from {{ landings }} as landings
    where landings.load_id in (select load_id from {{ loads }} where is_complete)
    order by landings.released_at desc, landings.load_id desc
    limit 1
{%- endmacro %}
