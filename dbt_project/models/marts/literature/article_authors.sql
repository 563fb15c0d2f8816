{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys('pmid', ref('int_articles_deduplicated')) }}",
    indexes=[
        {'columns': ['article_author_id'], 'unique': True},
        {'columns': ['pmid']},
        {'columns': ['orcid']},
        {'columns': ['last_name']},
        {'columns': ['last_landed_at']},
    ],
) }}

with

articles as (
    select * from {{ ref('int_articles_deduplicated') }}
    where not is_deleted and {{ newer_than_built() }}
),

authors as (
    select
        articles.pmid,
        author.position as author_position,
        author.item,
        author.item ->> 'last_name' as last_name,
        author.item ->> 'initials' as initials,
        author.item ->> 'collective_name' as collective_name,
        articles.last_landed_at
    from articles
    cross join lateral jsonb_array_elements(
        {{ json_array("articles.author_details") }}
    ) with ordinality as author (item, position)
),

article_authors as (
    select
        pmid || '-' || author_position as article_author_id,
        pmid,
        author_position,
        -- As PubMed cites the author ("Hooper SR"), a group under its collective name.
        coalesce(collective_name, concat_ws(' ', last_name, initials)) as display_name,
        last_name,
        item ->> 'fore_name' as fore_name,
        initials,
        item ->> 'suffix' as suffix,
        collective_name,
        collective_name is not null as is_collective,
        substring(
            jsonb_path_query_first(item -> 'identifiers', '$[*] ? (@.source == "ORCID").value')
            #>> '{}'
            from '(\d{4}-?\d{4}-?\d{4}-?\d{3}[\dX])'
        ) as orcid_digits,
        {{ json_text_array("item -> 'affiliations'") }} as affiliations,
        coalesce({{ safe_boolean("item ->> 'equal_contrib'") }}, false)
            as is_equal_contribution,
        last_landed_at
    from authors
),

final as (
    select
        article_author_id,
        pmid,
        author_position,
        display_name,
        last_name,
        fore_name,
        initials,
        suffix,
        collective_name,
        is_collective,
        -- 0000000218250097 and 0000-0002-1825-0097 alike become the hyphenated form.
        case when orcid_digits is not null then
                regexp_replace(
                    replace(orcid_digits, '-', ''), '^(.{4})(.{4})(.{4})(.{4})$', '\1-\2-\3-\4'
                )
        end as orcid,
        affiliations,
        is_equal_contribution,
        last_landed_at
    from article_authors
)

select * from final
