-- One row per source record the drug links refused to guess: `ambiguous` (its name or
-- code points at several drugs and nothing else decides) or `conflicting` (its names
-- point at different drugs). `records`: how many source rows it stands for (FAERS drug
-- rows share one entry per active ingredient and drug name).

with

trials as (
    select * from (
        select
            trial_intervention_id,
            intervention_name,
            outcome,
            link_method,
            candidate_drug_ids,
            ambiguous_values
        from {{ ref('int_trial_intervention_drug_matches') }}
    ) as matches
),

articles as (
    select * from (
        select
            article_chemical_id,
            substance_name,
            registry_number,
            outcome,
            link_method,
            candidate_drug_ids,
            ambiguous_values
        from {{ ref('int_article_chemical_drug_matches') }}
    ) as matches
),

faers as (
    select * from (
        select
            faers_drug_name_id,
            active_ingredient,
            drug_name,
            drug_rows,
            outcome,
            link_method,
            candidate_drug_ids,
            ambiguous_values
        from {{ ref('int_faers_drug_matches') }}
    ) as matches
),

unioned as (
    select
        'clinicaltrials' as source,
        trial_intervention_id as record_id,
        intervention_name as source_text,
        outcome,
        candidate_drug_ids,
        ambiguous_values,
        1 as records
    from trials
    union all
    select
        'pubmed',
        article_chemical_id,
        coalesce(substance_name, registry_number),
        outcome,
        candidate_drug_ids,
        ambiguous_values,
        1
    from articles
    union all
    select
        'faers',
        faers_drug_name_id,
        coalesce(active_ingredient, drug_name),
        outcome,
        candidate_drug_ids,
        ambiguous_values,
        drug_rows
    from faers
),

refused as (
    select
        source || ':' || record_id as drug_link_ambiguity_id,
        source,
        record_id,
        source_text,
        outcome,
        candidate_drug_ids,
        coalesce(ambiguous_values, cast(array[] as text[])) as ambiguous_values,
        cast(records as integer) as records
    from unioned
    where outcome in ('ambiguous', 'conflicting')
)

select * from refused
