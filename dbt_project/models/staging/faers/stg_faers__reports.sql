-- One row per landed DEMO line: one version of a case (FAERS: primaryid = case id and
-- version; legacy AERS: one ISR, `primaryid` holds the ISR and `caseid` the CASE).
-- Field names differ between the layouts (legacy gndr_cod, i_f_cod): both are read.
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
    from {{ source('faers', 'demo') }}
),

renamed as (
    select
        primaryid,
        caseid,
        {{ safe_integer('primaryid') }} as primaryid_number,
        layout,
        quarter,
        {{ safe_integer("record ->> 'caseversion'") }} as case_version,
        coalesce(record ->> 'i_f_code', record ->> 'i_f_cod') as initial_or_followup_code,
        {{ compact_date("record ->> 'event_dt'") }} as event_date,
        nullif(record ->> 'event_dt', '') as event_date_text,
        {{ compact_date("record ->> 'mfr_dt'") }} as manufacturer_received_date,
        {{ compact_date("record ->> 'init_fda_dt'") }} as initial_fda_received_date,
        {{ compact_date("record ->> 'fda_dt'") }} as fda_received_date,
        {{ compact_date("record ->> 'rept_dt'") }} as report_date,
        nullif(record ->> 'rept_cod', '') as report_type_code,
        nullif(record ->> 'mfr_sndr', '') as manufacturer,
        {{ safe_numeric("record ->> 'age'") }} as age,
        nullif(upper(record ->> 'age_cod'), '') as age_unit_code,
        nullif(record ->> 'age_grp', '') as age_group_code,
        nullif(upper(coalesce(record ->> 'sex', record ->> 'gndr_cod')), '') as sex_code,
        {{ safe_numeric("record ->> 'wt'") }} as weight,
        nullif(upper(record ->> 'wt_cod'), '') as weight_unit_code,
        nullif(upper(record ->> 'occp_cod'), '') as reporter_occupation_code,
        nullif(record ->> 'reporter_country', '') as reporter_country,
        nullif(record ->> 'occr_country', '') as occurrence_country,
        {{ compact_date("record ->> 'death_dt'") }} as death_date,
        false as is_deletion_notice,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
