-- One row per landed DrugCentral ingredient - ATC code pair (`struct2atc`).
with

source as (
    select * from {{ source('drugcentral', 'struct2atc') }}
),

pairs as (
    select
        cast(id as integer) as ingredient_atc_id,
        db_version,
        {{ safe_integer("record ->> 'struct_id'") }} as struct_id,
        trim(record ->> 'atc_code') as atc_code,
        {{ loaded_at('_dlt_load_id') }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from pairs
