with

interventions as (
    select * from {{ ref('int_trial_interventions_unnested') }}
),

identified as (
    select
        nct_id || '-' || intervention_position as trial_intervention_id,
        *
    from interventions
)

select * from identified
