-- One row per class of each substance of a landed pharmacologic-class indexing SPL.
with

source as (
    select
        landed.set_id,
        landed.version,
        landed.unii,
        landed._dlt_load_id,
        landed.record
    from {{ source('dailymed', 'pharmacologic_classes') }} as landed
),

classes as (
    select
        source.*,
        class.item
    from source
    cross join lateral jsonb_array_elements(
        case jsonb_typeof(source.record #> '{substance,classes}')
            when 'array' then source.record #> '{substance,classes}'
            else '[]'::jsonb
        end
    ) as class (item)
),

renamed as (
    select
        set_id,
        version as spl_version,
        _dlt_load_id as load_id,
        {{ loaded_at() }} as loaded_at,
        cast(record ->> 'effective_time' as date) as effective_date,
        unii as substance_unii,
        record #>> '{substance,name}' as substance_name,
        item ->> 'code' as class_code,
        item ->> 'name' as class_name,
        item ->> 'class_type' as class_type,
        item ->> 'code_system' as class_code_system
    from classes
)

select * from renamed
