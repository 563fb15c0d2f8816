-- One row per landed REAC line: a reaction (MedDRA preferred term) of one case version.
with

source as (
    select
        primaryid,
        caseid,
        quarter,
        layout,
        record,
        source_uri,
        deleted,
        _dlt_load_id
    from {{ source('faers', 'reac') }}
),

renamed as (
    select
        primaryid,
        layout,
        quarter,
        nullif(trim(record ->> 'pt'), '') as preferred_term,
        nullif(record ->> 'drug_rec_act', '') as drug_recurrence_action,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
