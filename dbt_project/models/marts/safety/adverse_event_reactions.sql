-- One row per reaction (MedDRA preferred term) of a current adverse event case; a term
-- a report lists twice is one row.
-- Incremental: a build rebuilds only the cases with something landed since the previous
-- one (as `adverse_event_reports`).

{{ config(
    materialized='incremental',
    sql_header=without_nested_loops(),
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys('caseid', ref('int_faers_cases_last_landed')) }}",
    indexes=[
        {'columns': ['caseid']},
        {'columns': ['preferred_term_key']},
        {'columns': ['last_landed_at']},
    ],
) }}

with

changed_cases as (
    select
        caseid,
        last_landed_at
    from {{ ref('int_faers_cases_last_landed') }}
    where {{ newer_than_built() }}
),

current_cases as (
    select * from {{ ref('int_faers_cases_deduplicated') }}
    where {{ among_changed_keys('caseid', 'changed_cases', by_index=false) }}
),

reactions as (
    select * from {{ ref('stg_faers__reactions') }}
    where {{ among_changed_keys('primaryid', 'current_cases') }}
),

reports as (
    select * from {{ ref('adverse_event_reports') }}
    where {{ among_changed_keys('caseid', 'changed_cases', by_index=false) }}
),

api_reactions as (
    select * from {{ ref('int_faers_api_reactions_unnested') }}
    where {{ among_changed_keys('caseid', 'changed_cases', by_index=false) }}
),

quarterly as (
    select
        current_cases.caseid,
        current_cases.primaryid,
        reactions.preferred_term,
        reactions.drug_recurrence_action,
        'faers_quarterly' as record_source
    from current_cases
    inner join reactions
        on reactions.primaryid = current_cases.primaryid
        and reactions.load_id = current_cases.load_id
    inner join reports  -- the quarterly version is the case's current one
        on reports.caseid = current_cases.caseid
        and reports.record_source = 'faers_quarterly'
    where not current_cases.is_deleted and reactions.preferred_term is not null
),

from_api as (
    select
        api_reactions.caseid,
        api_reactions.safetyreportid as primaryid,
        api_reactions.preferred_term,
        cast(null as text) as drug_recurrence_action,
        'openfda_api' as record_source
    from api_reactions
    inner join reports
        on reports.caseid = api_reactions.caseid
        and reports.record_source = 'openfda_api'
    where api_reactions.preferred_term is not null
),

all_reactions as (
    select
        unioned.*,
        upper(unioned.preferred_term) as preferred_term_key,
        changed_cases.last_landed_at
    from (
        select * from quarterly
        union all
        select * from from_api
    ) as unioned
    inner join changed_cases on changed_cases.caseid = unioned.caseid
),

one_per_term as (
    select distinct on (caseid, preferred_term_key)
        caseid || ':' || preferred_term_key as adverse_event_reaction_id,
        caseid,
        primaryid,
        preferred_term,
        preferred_term_key,
        drug_recurrence_action,
        record_source,
        last_landed_at
    from all_reactions
    order by caseid, preferred_term_key, preferred_term
)

select * from one_per_term
