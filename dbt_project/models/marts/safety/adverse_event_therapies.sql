-- One row per therapy period of a drug of a current adverse event case: FAERS THER lines
-- of the case's current version (a drug may have several), openFDA's drugstartdate,
-- drugenddate and drugtreatmentduration for cases whose current version came from the
-- API. Joins to `adverse_event_drugs` by `adverse_event_drug_id`.
-- Incremental: a build rebuilds only the cases with something landed since the previous
-- one (as `adverse_event_reports`).

{{ config(
    materialized='incremental',
    sql_header=without_nested_loops(),
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys('caseid', ref('int_faers_cases_last_landed')) }}",
    indexes=[
        {'columns': ['adverse_event_therapy_id'], 'unique': True},
        {'columns': ['caseid']},
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

therapies as (
    select * from {{ ref('stg_faers__therapies') }}
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
        therapies.drug_seq,
        therapies.start_date,
        therapies.start_date_text,
        therapies.end_date,
        therapies.end_date_text,
        therapies.duration,
        therapies.duration_unit_code,
        'faers_quarterly' as record_source
    from current_cases
    inner join therapies
        on therapies.primaryid = current_cases.primaryid
        and therapies.load_id = current_cases.load_id
    inner join reports  -- the quarterly version is the case's current one
        on reports.caseid = current_cases.caseid
        and reports.record_source = 'faers_quarterly'
    where not current_cases.is_deleted
),

from_api as (
    select
        api_drugs.caseid,
        cast(api_drugs.drug_seq as text) as drug_seq,
        api_drugs.therapy_start_date as start_date,
        api_drugs.therapy_start_date_text as start_date_text,
        api_drugs.therapy_end_date as end_date,
        api_drugs.therapy_end_date_text as end_date_text,
        api_drugs.therapy_duration as duration,
        -- openFDA's unit codes as FAERS writes them.
        case api_drugs.therapy_duration_unit_code
            when '801' then 'YR'
            when '802' then 'MON'
            when '803' then 'WK'
            when '804' then 'DAY'
            when '805' then 'HR'
            when '806' then 'MIN'
        end as duration_unit_code,
        'openfda_api' as record_source
    from api_drugs
    inner join reports
        on reports.caseid = api_drugs.caseid
        and reports.record_source = 'openfda_api'
    where coalesce(
            api_drugs.therapy_start_date_text,
            api_drugs.therapy_end_date_text,
            cast(api_drugs.therapy_duration as text)
        ) is not null
),

all_therapies as (
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
        || row_number() over (
            partition by caseid, drug_seq
            order by start_date_text nulls last, end_date_text nulls last, duration
        ) as adverse_event_therapy_id,
        caseid || '-' || drug_seq as adverse_event_drug_id,
        caseid,
        drug_seq,
        start_date,
        start_date_text,
        end_date,
        end_date_text,
        duration,
        duration_unit_code,
        case duration_unit_code
            when 'YR' then duration * 365.25
            when 'MON' then duration * 365.25 / 12
            when 'WK' then duration * 7
            when 'DAY' then duration
            when 'HR' then duration / 24
            when 'MIN' then duration / 1440
            when 'SEC' then duration / 86400
        end as duration_days,
        record_source,
        last_landed_at
    from all_therapies
)

select * from final
