-- One row per landed RPSR line: a source of one case version (HP, CSM, FGN, ...).
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
    from {{ source('faers', 'rpsr') }}
),

renamed as (
    select
        primaryid,
        layout,
        quarter,
        nullif(upper(trim(record ->> 'rpsr_cod')), '') as report_source_code,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
