-- One row per drug of a current openFDA case (patient.drug[]), in the order openFDA gives.

with

api_cases as (
    select * from {{ ref('int_faers_api_cases_deduplicated') }}
),

drugs as (
    select
        api_cases.caseid,
        api_cases.safetyreportid,
        drug.position as drug_seq,
        drug.document ->> 'drugcharacterization' as characterization_code,
        nullif(trim(drug.document ->> 'medicinalproduct'), '') as drug_name,
        nullif(trim(drug.document #>> '{activesubstance,activesubstancename}'), '')
            as active_ingredient,
        nullif(drug.document ->> 'drugadministrationroute', '') as route_code,
        nullif(drug.document ->> 'drugdosagetext', '') as dose_verbatim,
        {{ safe_numeric("drug.document ->> 'drugstructuredosagenumb'") }} as dose_amount,
        nullif(drug.document ->> 'drugstructuredosageunit', '') as dose_unit_code,
        nullif(drug.document ->> 'drugdosageform', '') as dose_form
    from api_cases
    cross join
        lateral jsonb_array_elements(api_cases.patient_drugs)
        with ordinality as drug (document, position)
    where not api_cases.is_deleted
)

select * from drugs
