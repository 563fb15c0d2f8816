-- One row per case id on a deleted-case list FDA published with a quarter.
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
    from {{ source('faers', 'deleted_cases') }}
),

renamed as (
    select
        caseid,
        quarter,
        true as is_deletion_notice,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
