-- One row per landed name answer and RxNorm id it found; an answer that found nothing
-- keeps one row with a null `rxcui`.
with

source as (
    select
        name,
        search,
        fetched_at,
        record,
        source_uri,
        _dlt_load_id,
        _dlt_id
    from {{ source('rxnav', 'name_rxcuis') }}
),

unnested as (
    select
        source._dlt_id as answer_id,
        source.name,
        source.search,
        case source.search when 9 then 'approximate' else 'exact_or_normalized' end
            as match_kind,
        found.rxcui,
        found.rxcui is not null as is_found,
        source.fetched_at,
        {{ loaded_at('source._dlt_load_id') }} as loaded_at,
        source._dlt_load_id as load_id,
        source.source_uri
    from source
    left join lateral jsonb_array_elements_text(
        case jsonb_typeof(source.record -> 'idGroup' -> 'rxnormId')
            when 'array' then source.record -> 'idGroup' -> 'rxnormId'
            else '[]'::jsonb
        end
    ) as found (rxcui) on true
)

select * from unnested
