-- Analysed after each build: the search function reads the planner's match estimates.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook=[
        "{{ delete_changed_keys('pmid', ref('int_articles_deduplicated')) }}",
        "{{ delete_relinked_keys('pmid', ref('int_trial_article_links')) }}",
    ],
    post_hook=[
        "analyze {{ this }}",
        "{{ create_search_function(
            columns=[
                ('pmid', 'text'),
                ('title', 'text'),
                ('journal_abbreviation', 'text'),
                ('publication_year', 'smallint'),
                ('mesh_terms', 'text[]'),
                ('publication_date', 'date'),
            ],
            year='publication_year',
            prior='publication_date',
        ) }}",
    ],
    indexes=[
        {'columns': ['pmid'], 'unique': True},
        {'columns': ['search_vector', 'publication_year'], 'type': 'gin'},
        {'columns': ['publication_date']},
        {'columns': ['last_landed_at']},
    ],
) }}

with

-- A citation is rebuilt when it landed again, or when a study citing it did (its
-- trial_count).
articles as (
    select * from {{ ref('int_articles_deduplicated') }}
    where
        not is_deleted
        and (
            {{ newer_than_built() }}
            or {{ relinked_keys('pmid', ref('int_trial_article_links')) }}
        )
),

trial_links as (
    select * from {{ ref('int_trial_article_links') }}
    where is_current
),

trial_counts as (
    select
        pmid,
        count(distinct nct_id) as trial_count
    from trial_links
    where pmid in (select articles.pmid from articles)
    group by pmid
),

current_articles as (
    select
        articles.pmid,
        pmid_version,
        title,
        abstract,
        journal_title,
        journal_abbreviation,
        journal_issn,
        volume,
        issue,
        pages,
        publication_date,
        publication_year,
        entry_date,
        authors,
        languages,
        publication_types,
        mesh_terms,
        keywords,
        chemicals,
        grants,
        doi,
        pmc_id,
        citation_status,
        publication_status,
        date_completed,
        date_revised,
        coalesce(trial_counts.trial_count, 0) as trial_count,
        loaded_at,
        last_landed_at
    from articles
    left join trial_counts
        on articles.pmid = trial_counts.pmid
),

searchable as (
    select
        *,
        {{ search_vector({
            'A': ['title'],
            'B': [
                "array_to_string(mesh_terms, ' ')",
                "array_to_string(keywords, ' ')",
                "array_to_string(chemicals, ' ')",
            ],
            'C': ['abstract'],
            'D': ['journal_title', "array_to_string(authors, ' ')"],
        }) }} as search_vector
    from current_articles
)

select * from searchable
