-- One row per landed NDC answer and RxNorm id it found; an answer that found nothing
-- keeps one row with a null `rxcui`.
with

source as (
    {{ landed_or_empty(source('rxnav', 'ndc_rxcuis'), {
        'ndc': 'text',
        'fetched_at': 'timestamptz',
        'record': 'jsonb',
        'source_uri': 'text',
        '_dlt_load_id': 'text',
        '_dlt_id': 'text',
    }) }}
),

unnested as (
    select
        source._dlt_id as answer_id,
        source.ndc,
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
