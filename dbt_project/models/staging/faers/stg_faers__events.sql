-- One row per landed openFDA safety report (one version of a case), typed out of the
-- report openFDA served. `safetyreportid` is the FAERS case id (older reports carry a
-- check digit after a hyphen: 4562564-7 is case 4562564). Its drugs and reactions stay
-- jsonb arrays here; intermediate models unnest them.
with

source as (
    select
        safetyreportid,
        safetyreportversion,
        receivedate,
        record,
        source_uri,
        deleted,
        _dlt_load_id
    from {{ source('faers', 'events') }}
),

renamed as (
    select
        safetyreportid,
        split_part(safetyreportid, '-', 1) as caseid,
        {{ safe_integer('safetyreportversion') }} as safety_report_version,
        receivedate as received_date,
        {{ compact_date("record ->> 'receiptdate'") }} as latest_received_date,
        nullif(record ->> 'occurcountry', '') as occurrence_country,
        nullif(record #>> '{primarysource,reportercountry}', '') as reporter_country,
        nullif(record #>> '{primarysource,qualification}', '') as reporter_qualification_code,
        {{ safe_numeric("record #>> '{patient,patientonsetage}'") }} as age,
        nullif(record #>> '{patient,patientonsetageunit}', '') as age_unit_code,
        nullif(record #>> '{patient,patientsex}', '') as sex_code,
        {{ safe_numeric("record #>> '{patient,patientweight}'") }} as weight_kg,
        record ->> 'serious' = '1' as is_serious,
        record ->> 'seriousnessdeath' = '1' as is_death,
        record ->> 'seriousnesslifethreatening' = '1' as is_life_threatening,
        record ->> 'seriousnesshospitalization' = '1' as is_hospitalization,
        record ->> 'seriousnessdisabling' = '1' as is_disability,
        record ->> 'seriousnesscongenitalanomali' = '1' as is_congenital_anomaly,
        record ->> 'seriousnessother' = '1' as is_other_serious,
        nullif(record ->> 'companynumb', '') as manufacturer_report_number,
        coalesce(record #> '{patient,drug}', '[]'::jsonb) as patient_drugs,
        coalesce(record #> '{patient,reaction}', '[]'::jsonb) as patient_reactions,
        deleted as is_deletion_notice,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
