{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys('pmid', ref('int_articles_deduplicated')) }}",
    indexes=[
        {'columns': ['article_mesh_term_id'], 'unique': True},
        {'columns': ['pmid']},
        {'columns': ['descriptor_ui']},
        {'columns': ['last_landed_at']},
    ],
) }}

with

articles as (
    select * from {{ ref('int_articles_deduplicated') }}
    where not is_deleted and {{ newer_than_built() }}
),

headings as (
    select
        articles.pmid,
        heading.position as heading_position,
        heading.item ->> 'descriptor_ui' as descriptor_ui,
        heading.item ->> 'descriptor_name' as descriptor_name,
        coalesce({{ safe_boolean("heading.item ->> 'major_topic'") }}, false)
            as is_descriptor_major_topic,
        heading.item -> 'qualifiers' as qualifiers,
        articles.last_landed_at
    from articles
    cross join lateral jsonb_array_elements(
        {{ json_array("articles.mesh_headings") }}
    ) with ordinality as heading (item, position)
),

mesh_terms as (
    select
        pmid || '-' || heading_position as article_mesh_term_id,
        pmid,
        heading_position,
        descriptor_ui,
        descriptor_name,
        {{ json_field_array('qualifiers', 'name') }} as qualifier_names,
        {{ json_field_array('qualifiers', 'ui') }} as qualifier_uis,
        is_descriptor_major_topic,
        is_descriptor_major_topic
        or coalesce(
            jsonb_path_exists(qualifiers, '$[*] ? (@.major_topic == true)'), false
        ) as is_major_topic,
        last_landed_at
    from headings
)

select * from mesh_terms
