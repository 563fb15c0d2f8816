-- One row per section or subsection of each landed label version, in document order.
with

source as (
    select
        landed.set_id,
        landed.version,
        landed._dlt_load_id,
        document.record
    from {{ source('dailymed', 'labels') }} as landed
    cross join lateral ({{ detoast('landed.record') }}) as document
),

sections as (
    select
        source.set_id,
        source.version,
        source._dlt_load_id,
        section.item
    from source
    cross join lateral jsonb_array_elements(
        case jsonb_typeof(source.record -> 'sections')
            when 'array' then source.record -> 'sections'
            else '[]'::jsonb
        end
    ) as section (item)
),

renamed as (
    select
        set_id,
        version as spl_version,
        cast(item ->> 'position' as integer) as section_position,
        _dlt_load_id as load_id,
        {{ loaded_at() }} as loaded_at,
        item ->> 'code' as section_code,
        item ->> 'display_name' as section_code_name,
        item ->> 'title' as section_title,
        cast(item ->> 'level' as integer) as section_level,
        item ->> 'parent_code' as parent_section_code,
        cast(item ->> 'parent_position' as integer) as parent_section_position,
        {{ json_text_array("item -> 'path'") }} as section_path,
        coalesce(cast(item ->> 'is_known_code' as boolean), false) as is_known_code,
        item ->> 'text' as section_text,
        item ->> 'highlight' as highlight_text
    from sections
)

select * from renamed
