-- The current state of every study landed: its latest version (newest
-- LastUpdatePostDate, then newest landing), and whether it is deleted (its latest
-- landing is a deletion notice). Incremental: a run rebuilds only the studies with
-- something landed since the previous run, from their whole landed history.

{{ config(
    materialized='incremental',
    unique_key='nct_id',
    incremental_strategy='delete+insert',
    indexes=[
        {'columns': ['nct_id'], 'unique': True},
        {'columns': ['last_landed_at']},
    ],
) }}

with

studies as (
    select * from {{ ref('stg_clinicaltrials__studies') }}
),

{% if is_incremental() %}
-- A second import of the same view (not `studies` again): PostgreSQL materialises a CTE
-- used twice, which would decompress every landed document on each run.
landed_studies as (
    select nct_id, loaded_at from {{ ref('stg_clinicaltrials__studies') }}
),

changed_studies as (
    select distinct nct_id
    from landed_studies
    where loaded_at > (select coalesce(max(last_landed_at), '-infinity') from {{ this }})
),

-- `= any(array(...))` rather than a join: the key list reaches the raw table's index,
-- so only the changed studies' documents are read.
landings as (
    select * from studies
    where nct_id = any(array(select nct_id from changed_studies))
),
{% else %}
landings as (
    select * from studies
),
{% endif %}

landings_with_history as (
    select
        *,
        max(loaded_at) over (partition by nct_id) as last_landed_at,
        max(case when is_deletion_notice then loaded_at end)
            over (partition by nct_id) as last_deleted_at
    from landings
),

versions as (
    select * from landings_with_history
    where not is_deletion_notice
),

latest_versions as (
    {{ latest_per_key(
        'versions', 'nct_id', 'last_update_post_date desc nulls last, loaded_at desc'
    ) }}
),

current_studies as (
    select
        *,
        coalesce(last_deleted_at >= last_landed_at, false) as is_deleted
    from latest_versions
)

select * from current_studies
