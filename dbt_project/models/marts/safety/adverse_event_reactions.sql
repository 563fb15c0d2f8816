-- One row per reaction (MedDRA preferred term) of a current adverse event case; a term
-- a report lists twice is one row.

{{ config(indexes=[{'columns': ['caseid']}, {'columns': ['preferred_term_key']}]) }}

with

current_cases as (
    select * from {{ ref('int_faers_cases_deduplicated') }}
),

reactions as (
    select * from {{ ref('stg_faers__reactions') }}
),

reports as (
    select * from {{ ref('adverse_event_reports') }}
),

api_reactions as (
    select * from {{ ref('int_faers_api_reactions_unnested') }}
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
        *,
        upper(preferred_term) as preferred_term_key
    from (
        select * from quarterly
        union all
        select * from from_api
    ) as unioned
),

one_per_term as (
    select distinct on (caseid, preferred_term_key)
        caseid || ':' || preferred_term_key as adverse_event_reaction_id,
        caseid,
        primaryid,
        preferred_term,
        preferred_term_key,
        drug_recurrence_action,
        record_source
    from all_reactions
    order by caseid, preferred_term_key, preferred_term
)

select * from one_per_term
