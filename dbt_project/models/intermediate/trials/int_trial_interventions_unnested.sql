-- One row per intervention of each current (not deleted) study, in the study's order,
-- keyed `<nct_id>-<position>`. A view: the incremental marts read only the studies they
-- rebuild through it; the drug links (`int_trial_intervention_drug_matches`) read it all.

{{ config(materialized='view') }}

with

studies as (
    select * from {{ ref('int_studies_deduplicated') }}
    where not is_deleted
),

unnested as (
    select
        studies.nct_id || '-' || intervention.position as trial_intervention_id,
        studies.nct_id,
        intervention.position as intervention_position,
        intervention.item ->> 'type' as intervention_type,
        intervention.item ->> 'name' as intervention_name,
        intervention.item ->> 'description' as intervention_description,
        {{ json_text_array("intervention.item -> 'armGroupLabels'") }} as arm_group_labels,
        {{ json_text_array("intervention.item -> 'otherNames'") }} as other_names,
        studies.last_landed_at
    from studies
    cross join lateral jsonb_array_elements(
        coalesce(studies.interventions, '[]'::jsonb)
    ) with ordinality as intervention (item, position)
)

select * from unnested
