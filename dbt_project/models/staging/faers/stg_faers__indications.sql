-- One row per landed INDI line: what a drug of one case version was given for.
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
    from {{ source('faers', 'indi') }}
),

renamed as (
    select
        primaryid,
        layout,
        quarter,
        coalesce(record ->> 'indi_drug_seq', record ->> 'drug_seq') as drug_seq,
        nullif(trim(record ->> 'indi_pt'), '') as indication_term,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
