-- One row per chemical of each current citation (`int_article_chemicals_unnested`),
-- incremental: a run rebuilds the citations landed since the last one.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys('pmid', ref('int_articles_deduplicated')) }}",
    indexes=[
        {'columns': ['article_chemical_id'], 'unique': True},
        {'columns': ['pmid']},
        {'columns': ['registry_number']},
        {'columns': ['substance_ui']},
        {'columns': ['last_landed_at']},
    ],
) }}

with

chemicals as (
    select * from {{ ref('int_article_chemicals_unnested') }}
    where {{ newer_than_built() }}
)

select * from chemicals
