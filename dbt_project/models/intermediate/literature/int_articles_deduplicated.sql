-- The current state of every citation landed: its latest version (highest PMID version,
-- then newest DateRevised, then newest landing), and whether it is deleted (its latest
-- landing is a deletion notice). Incremental: a run rebuilds only the citations with
-- something landed since the previous run, from their whole landed history.

{{ config(
    materialized='incremental',
    unique_key='pmid',
    incremental_strategy='delete+insert',
    indexes=[
        {'columns': ['pmid'], 'unique': True},
        {'columns': ['last_landed_at']},
    ],
) }}

with

articles as (
    select * from {{ ref('stg_pubmed__articles') }}
),

{% if is_incremental() %}
-- A second import of the same view (not `articles` again): PostgreSQL materialises a CTE
-- used twice, which would decompress every landed document on each run.
landed_articles as (
    select pmid, loaded_at from {{ ref('stg_pubmed__articles') }}
),

changed_articles as (
    select distinct pmid
    from landed_articles
    where loaded_at > (select coalesce(max(last_landed_at), '-infinity') from {{ this }})
),

-- `= any(array(...))` rather than a join: the key list reaches the raw table's index,
-- so only the changed citations' documents are read.
landings as (
    select * from articles
    where pmid = any(array(select pmid from changed_articles))
),
{% else %}
landings as (
    select * from articles
),
{% endif %}

landings_with_history as (
    select
        *,
        max(loaded_at) over (partition by pmid) as last_landed_at,
        max(case when is_deletion_notice then loaded_at end)
            over (partition by pmid) as last_deleted_at
    from landings
),

versions as (
    select * from landings_with_history
    where not is_deletion_notice
),

-- A later revision wins even when an older file is landed after it (a full reload, a
-- backfill of an older update file); the landing order decides between equal revisions.
latest_versions as (
    {{ latest_per_key(
        'versions',
        'pmid',
        'pmid_version desc, date_revised desc nulls last, loaded_at desc'
    ) }}
),

-- A deletion notice landed with or after the latest landing deletes the citation (an
-- update file lists its deletions after its articles, in the same load).
current_articles as (
    select
        *,
        coalesce(last_deleted_at >= last_landed_at, false) as is_deleted
    from latest_versions
)

select * from current_articles
