-- One row per current adverse event case, from the FAERS quarterly files or openFDA's API,
-- whichever holds the case's newest version: the highest case version (FAERS
-- `caseversion`, openFDA `safetyreportversion`), then the latest FDA receipt date
-- (`fda_dt`, `receiptdate`), then the quarterly file (FDA's curated extract). The same
-- case arriving from both, in either order, is one row. Cases on a deleted-case list are
-- gone from both.
-- Incremental: a build rebuilds only the cases with something landed since the previous
-- one (`int_faers_cases_last_landed`: a version either way in, a deletion notice), from
-- all they have landed.

{{ config(
    materialized='incremental',
    sql_header=without_nested_loops(),
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys('caseid', ref('int_faers_cases_last_landed')) }}",
    indexes=[
        {'columns': ['caseid'], 'unique': True},
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

reports as (
    select * from {{ ref('stg_faers__reports') }}
    where {{ among_changed_keys('caseid', 'changed_cases') }}
),

outcomes as (
    select * from {{ ref('stg_faers__outcomes') }}
    where {{ among_changed_keys('primaryid', 'current_cases') }}
),

deleted_cases as (
    select * from {{ ref('stg_faers__deleted_cases') }}
    where {{ among_changed_keys('caseid', 'changed_cases') }}
),

api_cases as (
    select * from {{ ref('int_faers_api_cases_deduplicated') }}
    where {{ among_changed_keys('caseid', 'changed_cases', by_index=false) }}
),

-- A primaryid names one report version, so with the load (one quarter) it names one DEMO
-- line and its case. FDA's notes on the quarterly extract (ASC_NTS, section C) define
-- PRIMARYID as the FAERS report's key, caseid and case version concatenated, found once
-- in a quarter's DEMO file; legacy AERS's ISR is likewise one report version's number.
-- The real 2017Q2 sample (samples/faers) has primaryid = caseid || caseversion
-- on every line. So the case is not a third join column: with it the planner estimated
-- one row and nested the outcomes' aggregate under every report (more than 5 minutes at
-- 100,000 reports; 2.4 s without it).
current_reports as (
    select reports.*
    from current_cases
    inner join reports
        on reports.primaryid = current_cases.primaryid
        and reports.load_id = current_cases.load_id
    where not current_cases.is_deleted
),

report_outcomes as (
    select
        outcomes.primaryid,
        outcomes.load_id,
        bool_or(outcomes.outcome_code = 'DE') as is_death,
        bool_or(outcomes.outcome_code = 'LT') as is_life_threatening,
        bool_or(outcomes.outcome_code = 'HO') as is_hospitalization,
        bool_or(outcomes.outcome_code = 'DS') as is_disability,
        bool_or(outcomes.outcome_code = 'CA') as is_congenital_anomaly,
        bool_or(outcomes.outcome_code = 'RI') as is_required_intervention,
        bool_or(outcomes.outcome_code = 'OT') as is_other_serious
    from outcomes
    inner join current_reports
        on current_reports.primaryid = outcomes.primaryid
        and current_reports.load_id = outcomes.load_id
    group by outcomes.primaryid, outcomes.load_id
),

quarterly as (
    select
        current_reports.caseid,
        current_reports.primaryid,
        'faers_quarterly' as record_source,
        current_reports.layout,
        current_reports.quarter,
        current_reports.case_version,
        current_reports.initial_or_followup_code,
        current_reports.report_type_code,
        current_reports.event_date,
        current_reports.event_date_text,
        coalesce(current_reports.initial_fda_received_date, current_reports.fda_received_date)
            as initial_received_date,
        current_reports.fda_received_date as latest_received_date,
        current_reports.age,
        current_reports.age_unit_code,
        round(
            current_reports.age * case current_reports.age_unit_code
                when 'YR' then 1.0
                when 'DEC' then 10.0
                when 'MON' then 1.0 / 12
                when 'WK' then 7.0 / 365.25
                when 'DY' then 1.0 / 365.25
                when 'HR' then 1.0 / 8766
            end,
            3
        ) as age_years,
        case current_reports.sex_code when 'M' then 'male' when 'F' then 'female' end as sex,
        round(
            current_reports.weight * case current_reports.weight_unit_code
                when 'KG' then 1.0
                when 'LBS' then 0.45359237
                when 'GMS' then 0.001
            end,
            3
        ) as weight_kg,
        coalesce(current_reports.occurrence_country, current_reports.reporter_country)
            as country,
        current_reports.occurrence_country,
        current_reports.reporter_country,
        current_reports.reporter_occupation_code as reporter_type_code,
        case current_reports.reporter_occupation_code
            when 'MD' then 'physician'
            when 'PH' then 'pharmacist'
            when 'OT' then 'other health professional'
            when 'LW' then 'lawyer'
            when 'CN' then 'consumer'
            when 'HP' then 'health professional'
        end as reporter_type,
        current_reports.manufacturer,
        coalesce(report_outcomes.is_death, false) as is_death,
        coalesce(report_outcomes.is_life_threatening, false) as is_life_threatening,
        coalesce(report_outcomes.is_hospitalization, false) as is_hospitalization,
        coalesce(report_outcomes.is_disability, false) as is_disability,
        coalesce(report_outcomes.is_congenital_anomaly, false) as is_congenital_anomaly,
        coalesce(report_outcomes.is_required_intervention, false) as is_required_intervention,
        coalesce(report_outcomes.is_other_serious, false) as is_other_serious,
        current_reports.loaded_at
    from current_reports
    left join report_outcomes
        on report_outcomes.primaryid = current_reports.primaryid
        and report_outcomes.load_id = current_reports.load_id
),

api_not_deleted as (
    select api_cases.*
    from api_cases
    where not api_cases.is_deleted
        and not exists (
            select 1 from current_cases
            where current_cases.caseid = api_cases.caseid
                and current_cases.is_deleted
        )
        and not exists (
            select 1 from deleted_cases
            where deleted_cases.caseid = api_cases.caseid
        )
),

from_api as (
    select
        caseid,
        safetyreportid as primaryid,
        'openfda_api' as record_source,
        'openfda' as layout,
        cast(null as text) as quarter,
        safety_report_version as case_version,
        cast(null as text) as initial_or_followup_code,
        cast(null as text) as report_type_code,
        cast(null as date) as event_date,
        cast(null as text) as event_date_text,
        received_date as initial_received_date,
        latest_received_date,
        age,
        age_unit_code,
        round(
            age * case age_unit_code
                when '801' then 1.0
                when '800' then 10.0
                when '802' then 1.0 / 12
                when '803' then 7.0 / 365.25
                when '804' then 1.0 / 365.25
                when '805' then 1.0 / 8766
            end,
            3
        ) as age_years,
        case sex_code when '1' then 'male' when '2' then 'female' end as sex,
        weight_kg,
        coalesce(occurrence_country, reporter_country) as country,
        occurrence_country,
        reporter_country,
        reporter_qualification_code as reporter_type_code,
        case reporter_qualification_code
            when '1' then 'physician'
            when '2' then 'pharmacist'
            when '3' then 'other health professional'
            when '4' then 'lawyer'
            when '5' then 'consumer'
        end as reporter_type,
        cast(null as text) as manufacturer,
        coalesce(is_death, false) as is_death,
        coalesce(is_life_threatening, false) as is_life_threatening,
        coalesce(is_hospitalization, false) as is_hospitalization,
        coalesce(is_disability, false) as is_disability,
        coalesce(is_congenital_anomaly, false) as is_congenital_anomaly,
        false as is_required_intervention,
        coalesce(is_other_serious, false) as is_other_serious,
        loaded_at
    from api_not_deleted
),

all_versions as (
    select * from quarterly
    union all
    select * from from_api
),

ranked as (
    select
        *,
        row_number() over (
            partition by caseid
            order by
                case_version desc nulls last,
                latest_received_date desc nulls last,
                (record_source = 'faers_quarterly') desc,
                loaded_at desc
        ) as version_rank
    from all_versions
),

final as (
    select
        ranked.caseid,
        ranked.primaryid,
        record_source,
        layout,
        quarter,
        case_version,
        initial_or_followup_code,
        report_type_code,
        event_date,
        event_date_text,
        initial_received_date,
        latest_received_date,
        age,
        age_unit_code,
        age_years,
        sex,
        weight_kg,
        country,
        occurrence_country,
        reporter_country,
        reporter_type_code,
        reporter_type,
        manufacturer,
        is_death,
        is_life_threatening,
        is_hospitalization,
        is_disability,
        is_congenital_anomaly,
        is_required_intervention,
        is_other_serious,
        loaded_at,
        is_death or is_life_threatening or is_hospitalization or is_disability
        or is_congenital_anomaly or is_required_intervention or is_other_serious as is_serious,
        changed_cases.last_landed_at
    from ranked
    inner join changed_cases on changed_cases.caseid = ranked.caseid
    where ranked.version_rank = 1
)

select * from final
