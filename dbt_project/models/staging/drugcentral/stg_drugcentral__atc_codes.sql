-- One row per landed DrugCentral ATC code (level 5, with its four parent levels).
with

source as (
    select * from {{ source('drugcentral', 'atc') }}
),

atc_codes as (
    select
        trim(code) as atc_code,
        db_version,
        record ->> 'chemical_substance' as chemical_substance,
        trim(record ->> 'l1_code') as level1_code,
        record ->> 'l1_name' as level1_name,
        trim(record ->> 'l2_code') as level2_code,
        record ->> 'l2_name' as level2_name,
        trim(record ->> 'l3_code') as level3_code,
        record ->> 'l3_name' as level3_name,
        trim(record ->> 'l4_code') as level4_code,
        record ->> 'l4_name' as level4_name,
        {{ loaded_at('_dlt_load_id') }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from atc_codes
