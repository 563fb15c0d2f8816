-- One row per landed DrugCentral structure (active ingredient).
with

source as (
    select * from {{ source('drugcentral', 'structures') }}
),

structures as (
    select
        cast(id as integer) as struct_id,
        db_version,
        record ->> 'name' as ingredient_name,
        record ->> 'cas_reg_no' as cas_registry_number,
        record ->> 'smiles' as smiles,
        record ->> 'inchikey' as inchikey,
        record ->> 'cd_formula' as molecular_formula,
        {{ safe_numeric("record ->> 'cd_molweight'") }} as molecular_weight,
        record ->> 'stem' as usan_stem,
        record ->> 'status' as status,
        {{ loaded_at('_dlt_load_id') }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from structures
