-- One row per reaction of a current openFDA case (patient.reaction[]).

with

api_cases as (
    select * from {{ ref('int_faers_api_cases_deduplicated') }}
),

reactions as (
    select
        api_cases.caseid,
        api_cases.safetyreportid,
        nullif(trim(reaction.document ->> 'reactionmeddrapt'), '') as preferred_term
    from api_cases
    cross join
        lateral jsonb_array_elements(api_cases.patient_reactions)
            as reaction (document)
    where not api_cases.is_deleted
)

select * from reactions
