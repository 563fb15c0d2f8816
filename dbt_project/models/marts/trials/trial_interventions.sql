{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys('nct_id', ref('int_studies_deduplicated')) }}",
    indexes=[
        {'columns': ['trial_intervention_id'], 'unique': True},
        {'columns': ['nct_id']},
        {'columns': ['last_landed_at']},
    ],
) }}

with

interventions as (
    select * from {{ ref('int_trial_interventions_unnested') }}
    where {{ newer_than_built() }}
)

select * from interventions
