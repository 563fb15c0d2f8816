{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys('nct_id', ref('int_studies_deduplicated')) }}",
    indexes=[
        {'columns': ['trial_condition_id'], 'unique': True},
        {'columns': ['nct_id']},
        {'columns': ['last_landed_at']},
    ],
) }}

with

studies as (
    select * from {{ ref('int_studies_deduplicated') }}
    where not is_deleted and {{ newer_than_built() }}
),

conditions as (
    select
        studies.nct_id || '-' || condition.position as trial_condition_id,
        studies.nct_id,
        condition.position as condition_position,
        condition.name as condition_name,
        studies.last_landed_at
    from studies
    cross join lateral unnest(studies.conditions) with ordinality as condition (name, position)
)

select * from conditions
