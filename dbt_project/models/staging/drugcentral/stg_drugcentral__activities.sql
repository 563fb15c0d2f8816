-- One row per landed DrugCentral bioactivity / mechanism-of-action target
-- (`act_table_full`).
with

source as (
    select * from {{ source('drugcentral', 'act_table_full') }}
),

activities as (
    select
        cast(act_id as integer) as activity_id,
        db_version,
        {{ safe_integer("record ->> 'struct_id'") }} as struct_id,
        {{ safe_integer("record ->> 'target_id'") }} as target_id,
        record ->> 'target_name' as target_name,
        record ->> 'target_class' as target_class,
        record ->> 'accession' as uniprot_accessions,
        record ->> 'gene' as gene_symbols,
        record ->> 'swissprot' as swissprot_names,
        record ->> 'organism' as organism,
        record ->> 'action_type' as action_type,
        record ->> 'act_type' as activity_type,
        {{ safe_numeric("record ->> 'act_value'") }} as activity_value,
        record ->> 'act_unit' as activity_unit,
        record ->> 'relation' as activity_relation,
        record ->> 'act_source' as activity_source,
        coalesce({{ safe_integer("record ->> 'moa'") }} = 1, false) as is_mechanism_of_action,
        record ->> 'moa_source' as mechanism_source,
        record ->> 'tdl' as target_development_level,
        {{ loaded_at('_dlt_load_id') }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from activities
