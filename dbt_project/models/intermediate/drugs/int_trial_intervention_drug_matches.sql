-- One row per ClinicalTrials.gov intervention of type drug or biological, with the drug
-- it links to (or why it does not): its name as a set of ingredients (exact normalised
-- name), its name as a brand, then each of its other names the same two ways.

with

interventions as (
    select
        trial_intervention_id,
        nct_id,
        intervention_position,
        intervention_type,
        intervention_name,
        other_names
    from {{ ref('int_trial_interventions_unnested') }}
),

dictionary as (
    select
        drug_id,
        lookup_kind,
        lookup_value,
        is_ambiguous
    from {{ ref('int_drug_name_dictionary') }}
),

records as (
    select
        trial_intervention_id as record_id,
        *
    from interventions
    where upper(intervention_type) in ('DRUG', 'BIOLOGICAL')
),

named as (
    select
        record_id,
        0 as name_position,
        intervention_name as name
    from records
    union all
    select
        records.record_id,
        other.position,
        other.name
    from records
    cross join lateral unnest(records.other_names) with ordinality as other (name, position)
),

attempts as (
    select
        record_id,
        name_position * 2 + 1 as attempt_order,
        'name' as lookup_kind,
        {{ drug_name_set('name') }} as lookup_value
    from named
    union all
    select
        record_id,
        name_position * 2 + 2,
        'brand',
        {{ normalised_drug_name('name') }}
    from named
),

resolved as (
    {{ resolve_drug_links('records', 'attempts', 'dictionary') | indent(4) }}
),

final as (
    select
        records.trial_intervention_id,
        records.nct_id,
        records.intervention_position,
        records.intervention_type,
        records.intervention_name,
        records.other_names,
        resolved.outcome,
        resolved.drug_id,
        resolved.link_method,
        resolved.matched_value,
        resolved.candidate_drug_ids,
        resolved.ambiguous_values
    from records
    inner join resolved on records.record_id = resolved.record_id
)

select * from final
