-- One row per landed OUTC line: a patient outcome code of one case version.
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
    from {{ source('faers', 'outc') }}
),

renamed as (
    select
        primaryid,
        layout,
        quarter,
        nullif(upper(trim(record ->> 'outc_cod')), '') as outcome_code,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
