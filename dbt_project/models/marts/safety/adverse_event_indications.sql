-- One row per indication of a drug of a current adverse event case: FAERS INDI lines of
-- the case's current version, openFDA's drugindication for cases whose current version
-- came from the API. Joins to `adverse_event_drugs` by `adverse_event_drug_id`.
-- Incremental: a build rebuilds only the cases with something landed since the previous
-- one (as `adverse_event_reports`).

{{ config(
    materialized='incremental',
    sql_header=without_nested_loops(),
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys('caseid', ref('int_faers_cases_last_landed')) }}",
    indexes=[
        {'columns': ['adverse_event_indication_id'], 'unique': True},
        {'columns': ['caseid']},
        {'columns': ['indication_term']},
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
    select
        caseid,
        primaryid,
        load_id,
        is_deleted
    from {{ ref('int_faers_cases_deduplicated') }}
    where {{ among_changed_keys('caseid', 'changed_cases', by_index=false) }}
),

indications as (
    select * from {{ ref('stg_faers__indications') }}
    where {{ among_changed_keys('primaryid', 'current_cases') }}
),

reports as (
    select
        caseid,
        record_source
    from {{ ref('adverse_event_reports') }}
    where {{ among_changed_keys('caseid', 'changed_cases', by_index=false) }}
),

api_drugs as (
    select * from {{ ref('int_faers_api_drugs_unnested') }}
    where {{ among_changed_keys('caseid', 'changed_cases', by_index=false) }}
),

quarterly as (
    select distinct
        current_cases.caseid,
        indications.drug_seq,
        indications.indication_term,
        'faers_quarterly' as record_source
    from current_cases
    inner join indications
        on indications.primaryid = current_cases.primaryid
        and indications.load_id = current_cases.load_id
    inner join reports  -- the quarterly version is the case's current one
        on reports.caseid = current_cases.caseid
        and reports.record_source = 'faers_quarterly'
    where not current_cases.is_deleted and indications.indication_term is not null
),

from_api as (
    select distinct
        api_drugs.caseid,
        cast(api_drugs.drug_seq as text) as drug_seq,
        api_drugs.indication_term,
        'openfda_api' as record_source
    from api_drugs
    inner join reports
        on reports.caseid = api_drugs.caseid
        and reports.record_source = 'openfda_api'
    where api_drugs.indication_term is not null
),

all_indications as (
    select
        unioned.*,
        changed_cases.last_landed_at
    from (
        select * from quarterly
        union all
        select * from from_api
    ) as unioned
    inner join changed_cases on changed_cases.caseid = unioned.caseid
),

final as (
    select
        caseid || '-' || drug_seq || '-'
        || row_number() over (partition by caseid, drug_seq order by indication_term)
            as adverse_event_indication_id,
        caseid || '-' || drug_seq as adverse_event_drug_id,
        caseid,
        drug_seq,
        indication_term,
        lower(indication_term) as indication_term_key,
        record_source,
        last_landed_at
    from all_indications
)

select * from final
