-- One row per outcome measure of a current study: primary, secondary and other
-- pre-specified measures, each with its time frame, in the study's order.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys('nct_id', ref('int_studies_deduplicated')) }}",
    indexes=[
        {'columns': ['trial_outcome_id'], 'unique': True},
        {'columns': ['nct_id']},
        {'columns': ['last_landed_at']},
    ],
) }}

with

studies as (
    select * from {{ ref('int_studies_deduplicated') }}
    where not is_deleted and {{ newer_than_built() }}
),

measure_lists as (
    select
        nct_id,
        'PRIMARY' as outcome_type,
        primary_outcomes as measures,
        last_landed_at
    from studies
    union all
    select
        nct_id,
        'SECONDARY',
        secondary_outcomes,
        last_landed_at
    from studies
    union all
    select
        nct_id,
        'OTHER',
        other_outcomes,
        last_landed_at
    from studies
),

outcomes as (
    select
        measure_lists.nct_id || '-' || lower(measure_lists.outcome_type) || '-'
        || measure.position as trial_outcome_id,
        measure_lists.nct_id,
        measure_lists.outcome_type,
        measure.position as outcome_position,
        measure.item ->> 'measure' as measure,
        measure.item ->> 'description' as description,
        measure.item ->> 'timeFrame' as time_frame,
        measure_lists.last_landed_at
    from measure_lists
    cross join lateral jsonb_array_elements(
        {{ json_array('measure_lists.measures') }}
    ) with ordinality as measure (item, position)
)

select * from outcomes
