-- Analysed after each build: the search function reads the planner's match estimates.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys('nct_id', ref('int_studies_deduplicated')) }}",
    post_hook=[
        "analyze {{ this }}",
        "{{ create_search_function(
            columns=[
                ('nct_id', 'text'),
                ('brief_title', 'text'),
                ('overall_status', 'text'),
                ('phase', 'text'),
                ('conditions', 'text[]'),
                ('last_update_post_date', 'date'),
            ],
            year='last_update_year',
            prior='last_update_post_date',
        ) }}",
    ],
    indexes=[
        {'columns': ['nct_id'], 'unique': True},
        {'columns': ['search_vector', 'last_update_year'], 'type': 'gin'},
        {'columns': ['last_update_post_date']},
        {'columns': ['last_landed_at']},
    ],
) }}

with

studies as (
    select * from {{ ref('int_studies_deduplicated') }}
    where not is_deleted and {{ newer_than_built() }}
),

interventions as (
    select * from {{ ref('int_trial_interventions_unnested') }}
    where {{ newer_than_built() }}
),

intervention_names as (
    select
        nct_id,
        array_agg(intervention_name order by intervention_position) as intervention_names
    from interventions
    where intervention_name is not null
    group by nct_id
),

trials as (
    select
        studies.nct_id,
        studies.brief_title,
        studies.official_title,
        studies.acronym,
        studies.org_study_id,
        studies.overall_status,
        studies.study_type,
        studies.phases,
        nullif(array_to_string(studies.phases, '/'), '') as phase,
        studies.start_date,
        studies.primary_completion_date,
        studies.completion_date,
        studies.first_posted_date,
        studies.results_first_posted_date,
        studies.enrollment_count,
        studies.enrollment_type,
        studies.lead_sponsor_name,
        studies.lead_sponsor_class,
        studies.conditions,
        studies.keywords,
        coalesce(intervention_names.intervention_names, '{}') as intervention_names,
        studies.brief_summary,
        coalesce(studies.has_results, false) as has_results,
        studies.last_update_post_date,
        cast(extract(year from studies.last_update_post_date) as smallint) as last_update_year,
        studies.loaded_at,
        studies.last_landed_at
    from studies
    left join intervention_names
        on studies.nct_id = intervention_names.nct_id
),

searchable as (
    select
        *,
        {{ search_vector({
            'A': ['brief_title', 'official_title', 'acronym'],
            'B': [
                "array_to_string(conditions, ' ')",
                "array_to_string(keywords, ' ')",
                "array_to_string(intervention_names, ' ')",
            ],
            'C': ['brief_summary'],
            'D': ['lead_sponsor_name'],
        }) }} as search_vector
    from trials
)

select * from searchable
