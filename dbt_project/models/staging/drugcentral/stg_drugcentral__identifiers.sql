-- One row per landed DrugCentral identifier (UNII, RXNORM, ChEMBL_ID, ...).
with

source as (
    select * from {{ source('drugcentral', 'identifier') }}
),

identifiers as (
    select
        cast(id as integer) as identifier_id,
        db_version,
        {{ safe_integer("record ->> 'struct_id'") }} as struct_id,
        record ->> 'id_type' as identifier_type,
        record ->> 'identifier' as identifier,
        {{ safe_boolean("record ->> 'parent_match'") }} as is_parent_match,
        {{ loaded_at('_dlt_load_id') }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from identifiers
