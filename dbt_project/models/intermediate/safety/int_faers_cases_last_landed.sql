-- One row per FAERS case id anything landed for: a version from a quarterly file or from
-- openFDA's API, or a deleted-case list naming it, with when the latest of those landed.
-- The per-case marts rebuild, in an incremental build, the cases landed since their
-- last build (`delete_changed_keys`, `newer_than_built`).

{{ config(indexes=[
    {'columns': ['caseid'], 'unique': True},
    {'columns': ['last_landed_at']},
]) }}

with

quarterly_cases as (
    select
        caseid,
        last_landed_at
    from {{ ref('int_faers_cases_deduplicated') }}
),

api_cases as (
    select
        caseid,
        last_landed_at
    from {{ ref('int_faers_api_cases_deduplicated') }}
),

-- A list may name a case no quarter holds (one the API brought, or none at all), which
-- `int_faers_cases_deduplicated` (versions only) has no row for.
deleted_cases as (
    select
        caseid,
        loaded_at as last_landed_at
    from {{ ref('stg_faers__deleted_cases') }}
),

landings as (
    select * from quarterly_cases
    union all
    select * from api_cases
    union all
    select * from deleted_cases
),

cases as (
    select
        caseid,
        max(last_landed_at) as last_landed_at
    from landings
    where caseid is not null and caseid <> ''
    group by caseid
)

select * from cases
