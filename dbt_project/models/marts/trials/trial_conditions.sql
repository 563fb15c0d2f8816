with

studies as (
    select * from {{ ref('int_studies_deduplicated') }}
),

conditions as (
    select
        studies.nct_id || '-' || condition.position as trial_condition_id,
        studies.nct_id,
        condition.position as condition_position,
        condition.name as condition_name
    from studies
    cross join lateral unnest(studies.conditions) with ordinality as condition (name, position)
)

select * from conditions
