-- One row per ingredient concept (IN, MIN, PIN) related to an RxNorm id, per landed
-- answer. The allrelated answer lists every term type; the others are left out here.
with

source as (
    select
        rxcui,
        fetched_at,
        record,
        source_uri,
        _dlt_load_id,
        _dlt_id
    from {{ source('rxnav', 'related_ingredients') }}
),

concept_groups as (
    select
        source._dlt_id as answer_id,
        source.rxcui,
        source.fetched_at,
        source._dlt_load_id,
        source.source_uri,
        concept_group.item as concept_group
    from source
    cross join
        lateral jsonb_array_elements(
            case jsonb_typeof(source.record -> 'allRelatedGroup' -> 'conceptGroup')
                when 'array' then source.record -> 'allRelatedGroup' -> 'conceptGroup'
                else '[]'::jsonb
            end
        ) as concept_group (item)
    where concept_group.item ->> 'tty' in ('IN', 'MIN', 'PIN')
),

concepts as (
    select
        concept_groups.answer_id,
        concept_groups.rxcui,
        concept.item ->> 'rxcui' as related_rxcui,
        concept.item ->> 'name' as related_name,
        coalesce(concept.item ->> 'tty', concept_groups.concept_group ->> 'tty')
            as related_tty,
        nullif(concept.item ->> 'synonym', '') as related_synonym,
        concept.item ->> 'umlscui' as related_umls_cui,
        concept.item ->> 'suppress' as suppress_flag,
        concept_groups.fetched_at,
        {{ loaded_at('concept_groups._dlt_load_id') }} as loaded_at,
        concept_groups._dlt_load_id as load_id,
        concept_groups.source_uri
    from concept_groups
    cross join lateral jsonb_array_elements(
        case jsonb_typeof(concept_groups.concept_group -> 'conceptProperties')
            when 'array' then concept_groups.concept_group -> 'conceptProperties'
            else '[]'::jsonb
        end
    ) as concept (item)
)

select * from concepts
