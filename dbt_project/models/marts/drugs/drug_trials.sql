-- One row per ClinicalTrials.gov intervention (type drug or biological) linked to a drug,
-- with the method that linked it and the trial it belongs to. An intervention links to at
-- most one drug; ambiguous and conflicting ones are in `drug_link_ambiguities`.

{{ config(
    indexes=[
        {'columns': ['trial_intervention_id'], 'unique': True},
        {'columns': ['drug_id']},
        {'columns': ['nct_id']},
    ],
) }}

with

matches as (
    select * from {{ ref('int_trial_intervention_drug_matches') }}
),

trials as (
    select
        nct_id,
        brief_title,
        overall_status,
        phases,
        start_date,
        last_update_post_date
    from {{ ref('clinical_trials') }}
),

linked as (
    select
        matches.trial_intervention_id,
        matches.drug_id,
        matches.nct_id,
        matches.intervention_type,
        matches.intervention_name,
        matches.link_method,
        matches.matched_value,
        trials.brief_title,
        trials.overall_status,
        trials.phases,
        trials.start_date,
        trials.last_update_post_date
    from matches
    left join trials on matches.nct_id = trials.nct_id
    where matches.outcome = 'linked'
)

select * from linked
