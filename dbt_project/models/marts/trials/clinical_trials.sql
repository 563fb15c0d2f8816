-- Analysed after each build: the search function reads the planner's match estimates.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook=[
        "{{ delete_changed_keys('nct_id', ref('int_studies_deduplicated')) }}",
        "{{ delete_relinked_keys('nct_id', ref('int_trial_article_links')) }}",
    ],
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

-- A study is rebuilt when it landed again, or when a citation naming it did (its
-- article_count).
studies as (
    select * from {{ ref('int_studies_deduplicated') }}
    where
        not is_deleted
        and (
            {{ newer_than_built() }}
            or {{ relinked_keys('nct_id', ref('int_trial_article_links')) }}
        )
),

interventions as (
    select * from {{ ref('int_trial_interventions_unnested') }}
    where
        {{ newer_than_built() }}
        or {{ relinked_keys('nct_id', ref('int_trial_article_links')) }}
),

article_links as (
    select * from {{ ref('int_trial_article_links') }}
    where is_current
),

article_counts as (
    select
        nct_id,
        count(distinct pmid) as article_count
    from article_links
    where nct_id in (select studies.nct_id from studies)
    group by nct_id
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
        case
            when studies.has_results or studies.results_first_posted_date is not null
                then 'POSTED'
            when studies.results_first_submitted_date is not null then 'SUBMITTED'
            else 'NONE'
        end as results_status,
        studies.results_first_submitted_date,
        studies.results_first_qc_date,
        studies.last_known_status,
        studies.minimum_age,
        studies.maximum_age,
        studies.minimum_age_years,
        studies.maximum_age_years,
        studies.sex,
        studies.is_accepting_healthy_volunteers,
        studies.standard_age_groups,
        studies.eligibility_criteria,
        coalesce(article_counts.article_count, 0) as article_count,
        studies.last_update_post_date,
        cast(extract(year from studies.last_update_post_date) as smallint) as last_update_year,
        studies.loaded_at,
        studies.last_landed_at
    from studies
    left join intervention_names
        on studies.nct_id = intervention_names.nct_id
    left join article_counts
        on studies.nct_id = article_counts.nct_id
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
