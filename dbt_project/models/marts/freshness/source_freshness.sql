-- How fresh each source is, by the rules `medmirror status` states (flows/status.py):
-- `never loaded` (no committed load), `stale` (the last load is older than the
-- source's `error_after` or `warn_after`, or the publisher published as of a date the
-- mirror has not landed whole), `diverged` (the latest reconciliation's publisher count
-- differs from the mirror's), else `fresh`; `why` says which rule, in the same words.
-- A view: the age is the age now.

{{ config(materialized='view') }}

with

loads as (
    select * from {{ ref('int_source_loads_1') }}
    union all
    select * from {{ ref('int_source_loads_2') }}
    union all
    select * from {{ ref('int_source_loads_3') }}
),

latest_reconciliations as (
    select distinct on (source_name, resource)
        source_name,
        resource,
        checked_at,
        publisher_count,
        mirror_count,
        counted,
        publisher_as_of,
        mirror_as_of,
        coalesce(to_char(publisher_count, 'FM999,999,999,999,990'), '-') as publisher_shown,
        coalesce(to_char(mirror_count, 'FM999,999,999,999,990'), '-') as mirror_shown
    from {{ ref('stg_ops__reconciliation') }}
    order by source_name asc, resource asc, checked_at desc
),

reconciled as (
    select
        source_name,
        max(publisher_as_of) as publisher_as_of,
        max(mirror_as_of) as mirror_as_of,
        max(checked_at) as reconciled_at,
        string_agg(
            resource || ': ' || publisher_shown || ' / ' || mirror_shown, '; '
            order by resource
        ) as counts,
        (array_agg(
            resource || ': the publisher published as of ' || publisher_as_of
            || ', the mirror landed ' || coalesce(cast(mirror_as_of as text), 'nothing')
            || ' whole'
            order by resource
        ) filter (
            where publisher_as_of is not null
            and (mirror_as_of is null or mirror_as_of < publisher_as_of)
        ))[1] as behind,
        (array_agg(
            counted || ': publisher ' || publisher_shown || ', mirror ' || mirror_shown
            order by resource
        ) filter (
            where publisher_count is not null
            and (publisher_count is distinct from mirror_count)
        ))[1] as divergence
    from latest_reconciliations
    group by source_name
),

aged as (
    select
        loads.source,
        loads.last_loaded_at,
        loads.newest_record,
        loads.warn_after,
        loads.error_after,
        reconciled.publisher_as_of,
        reconciled.mirror_as_of,
        reconciled.reconciled_at,
        reconciled.counts,
        reconciled.behind,
        reconciled.divergence,
        now() - loads.last_loaded_at as age,
        floor(extract(epoch from now() - loads.last_loaded_at) / 86400) as age_days
    from loads
    left join reconciled on loads.source = reconciled.source_name
),

judged as (
    select
        source,
        last_loaded_at,
        publisher_as_of,
        mirror_as_of,
        newest_record,
        counts,
        reconciled_at,
        warn_after,
        error_after,
        case
            when last_loaded_at is null then 'never loaded'
            when age > error_after or age > warn_after then 'stale'
            when behind is not null then 'stale'
            when divergence is not null then 'diverged'
            else 'fresh'
        end as verdict,
        case
            when last_loaded_at is null then null
            when age > error_after
                then 'last load ' || age_days || ' days ago, past error_after ('
                    || extract(day from error_after) || ' days)'
            when age > warn_after
                then 'last load ' || age_days || ' days ago, past warn_after ('
                    || extract(day from warn_after) || ' days)'
            else coalesce(behind, divergence)
        end as why
    from aged
)

select * from judged
