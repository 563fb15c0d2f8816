-- The current version of every study: the latest landed version per NCT id (newest
-- LastUpdatePostDate, then newest load), unless a deletion notice landed after it.

with

studies as (
    select * from {{ ref('stg_clinicaltrials__studies') }}
),

versions as (
    select * from studies
    where not is_deleted
),

deletions as (
    select
        nct_id,
        max(loaded_at) as deleted_at
    from studies
    where is_deleted
    group by nct_id
),

latest_versions as (
    {{ latest_per_key(
        'versions', 'nct_id', 'last_update_post_date desc nulls last, loaded_at desc'
    ) }}
),

current_studies as (
    select latest_versions.*
    from latest_versions
    left join deletions
        on latest_versions.nct_id = deletions.nct_id
    where
        deletions.deleted_at is null
        or latest_versions.loaded_at > deletions.deleted_at
)

select * from current_studies
