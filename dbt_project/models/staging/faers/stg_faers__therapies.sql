-- One row per landed THER line: therapy dates of a drug of one case version.
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
    from {{ source('faers', 'ther') }}
),

renamed as (
    select
        primaryid,
        layout,
        quarter,
        coalesce(record ->> 'dsg_drug_seq', record ->> 'drug_seq') as drug_seq,
        {{ compact_date("record ->> 'start_dt'") }} as start_date,
        nullif(record ->> 'start_dt', '') as start_date_text,
        {{ compact_date("record ->> 'end_dt'") }} as end_date,
        nullif(record ->> 'end_dt', '') as end_date_text,
        {{ safe_numeric("record ->> 'dur'") }} as duration,
        nullif(upper(record ->> 'dur_cod'), '') as duration_unit_code,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
