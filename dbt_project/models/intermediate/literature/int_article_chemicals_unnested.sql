-- One row per chemical (MEDLINE's chemical list, in its order) of each current (not
-- deleted) citation, keyed `<pmid>-<position>`, with the type of its registry number. A
-- view: the incremental `article_chemicals` mart reads only the citations it rebuilds
-- through it; the drug links (`int_article_chemical_drug_matches`) read it all.

{{ config(materialized='view') }}

with

articles as (
    select * from {{ ref('int_articles_deduplicated') }}
    where not is_deleted
),

chemicals as (
    select
        articles.pmid,
        chemical.position as chemical_position,
        chemical.item ->> 'name' as substance_name,
        chemical.item ->> 'ui' as substance_ui,
        -- MEDLINE writes 0 where it knows no registry number.
        nullif(trim(chemical.item ->> 'registry_number'), '0') as registry_number,
        articles.last_landed_at
    from articles
    cross join lateral jsonb_array_elements(
        {{ json_array("articles.chemical_details") }}
    ) with ordinality as chemical (item, position)
),

article_chemicals as (
    select
        pmid || '-' || chemical_position as article_chemical_id,
        pmid,
        chemical_position,
        substance_name,
        substance_ui,
        registry_number,
        case
            when registry_number ~ '^\d{2,7}-\d{2}-\d$' then 'CAS'
            when registry_number ~* '^EC ' then 'EC'
            when registry_number ~ '^[0-9A-Z]{10}$' then 'UNII'
            when registry_number is not null then 'other'
        end as registry_number_type,
        last_landed_at
    from chemicals
)

select * from article_chemicals
