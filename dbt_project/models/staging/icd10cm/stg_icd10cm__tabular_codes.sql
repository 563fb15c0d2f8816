-- Every landed code of every release's tabular XML, 7th-character codes included.
with

source as (
    -- A release may come without this file: no rows then, rather than no view.
    select
        code,
        release_year,
        record,
        _dlt_load_id,
        source_uri
    from {{ source('icd10cm', 'tabular_codes') }}
),

renamed as (
    select
        code,
        cast(release_year as smallint) as release_year,
        record ->> 'dotted_code' as dotted_code,
        record ->> 'description' as description,
        record ->> 'chapter' as chapter,
        record ->> 'chapter_description' as chapter_description,
        record ->> 'section' as section,
        record ->> 'section_description' as section_description,
        record ->> 'parent' as parent_code,
        {{ json_text_array("record -> 'path'") }} as path_codes,
        cast(record ->> 'is_billable' as boolean) as is_billable,
        coalesce(record -> 'notes', '{}'::jsonb) as notes,
        record #>> '{seven_character,character}' as seven_character,
        record #>> '{seven_character,description}' as seven_character_description,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
