-- One row per class RxClass gives an RxNorm id, per landed answer (EPC, MOA, PE and
-- CHEM from DailyMed's SPL indexing, ATC1-4 from ATC).
with

source as (
    select
        rxcui,
        rela_source,
        fetched_at,
        record,
        source_uri,
        _dlt_load_id,
        _dlt_id
    from {{ source('rxnav', 'drug_classes') }}
),

classes as (
    select
        source._dlt_id as answer_id,
        source.rxcui,
        source.rela_source as requested_rela_source,
        drug_info.item -> 'minConcept' ->> 'rxcui' as concept_rxcui,
        drug_info.item -> 'minConcept' ->> 'name' as concept_name,
        drug_info.item -> 'minConcept' ->> 'tty' as concept_tty,
        drug_info.item -> 'rxclassMinConceptItem' ->> 'classId' as class_id,
        drug_info.item -> 'rxclassMinConceptItem' ->> 'className' as class_name,
        drug_info.item -> 'rxclassMinConceptItem' ->> 'classType' as class_type,
        nullif(drug_info.item ->> 'rela', '') as rela,
        drug_info.item ->> 'relaSource' as rela_source,
        source.fetched_at,
        {{ loaded_at('source._dlt_load_id') }} as loaded_at,
        source._dlt_load_id as load_id,
        source.source_uri
    from source
    cross join lateral jsonb_array_elements(
        case jsonb_typeof(source.record -> 'rxclassDrugInfoList' -> 'rxclassDrugInfo')
            when 'array' then source.record -> 'rxclassDrugInfoList' -> 'rxclassDrugInfo'
            else '[]'::jsonb
        end
    ) as drug_info (item)
)

select * from classes
