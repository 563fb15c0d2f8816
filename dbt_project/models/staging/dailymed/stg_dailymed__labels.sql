with

source as (
    select
        landed.set_id,
        landed.version,
        landed.effective_time,
        landed.published_date,
        landed.deleted,
        landed._dlt_load_id,
        landed.source_uri,
        document.record
    from {{ source('dailymed', 'labels') }} as landed
    cross join lateral ({{ detoast('landed.record') }}) as document
),

renamed as (
    select
        set_id,
        version as spl_version,
        record ->> 'spl_id' as spl_id,
        effective_time as effective_date,
        published_date,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri,
        record ->> 'title' as title,
        record #>> '{document_type,code}' as document_type_code,
        record #>> '{document_type,name}' as document_type_name,
        record #>> '{labeler,name}' as labeler_name,
        record #>> '{labeler,duns}' as labeler_duns,
        coalesce(jsonb_array_length(
            case jsonb_typeof(record -> 'products') when 'array' then record -> 'products' end
        ), 0) as product_count,
        coalesce(jsonb_array_length(
            case jsonb_typeof(record -> 'sections') when 'array' then record -> 'sections' end
        ), 0) as section_count,
        {{ json_text_array("record -> 'unknown_section_codes'") }} as unknown_section_codes,
        deleted as is_deletion_notice
    from source
)

select * from renamed
