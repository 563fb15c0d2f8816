-- One row per landed DRUG line: a drug of one case version, as reported.
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
    from {{ source('faers', 'drug') }}
),

renamed as (
    select
        primaryid,
        layout,
        quarter,
        record ->> 'drug_seq' as drug_seq,
        nullif(upper(record ->> 'role_cod'), '') as role_code,
        nullif(trim(record ->> 'drugname'), '') as drug_name,
        nullif(trim(record ->> 'prod_ai'), '') as active_ingredient,
        nullif(record ->> 'val_vbm', '') as verbatim_code,
        nullif(record ->> 'route', '') as route,
        nullif(record ->> 'dose_vbm', '') as dose_verbatim,
        {{ safe_numeric("record ->> 'dose_amt'") }} as dose_amount,
        nullif(record ->> 'dose_unit', '') as dose_unit,
        nullif(record ->> 'dose_form', '') as dose_form,
        nullif(record ->> 'dose_freq', '') as dose_frequency,
        nullif(record ->> 'cum_dose_chr', '') as cumulative_dose,
        nullif(record ->> 'cum_dose_unit', '') as cumulative_dose_unit,
        nullif(record ->> 'dechal', '') as dechallenge_code,
        nullif(record ->> 'rechal', '') as rechallenge_code,
        nullif(record ->> 'lot_num', '') as lot_number,
        nullif(record ->> 'nda_num', '') as nda_number,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
