-- Every landed HCPCS code or modifier of every release; records are small (inline).
with

source as (
    select * from {{ source('hcpcs', 'codes') }}
),

renamed as (
    select
        hcpcs_code,
        release,
        cast(release_year as smallint) as release_year,
        record ->> 'kind' as code_kind,
        record ->> 'long_description' as long_description,
        nullif(record ->> 'short_description', '') as short_description,
        cast(record ->> 'description_records' as smallint) as description_records,
        nullif(record ->> 'action_code', '') as action_code,
        cast(record ->> 'added_date' as date) as added_date,
        cast(record ->> 'action_effective_date' as date) as action_effective_date,
        cast(record ->> 'termination_date' as date) as termination_date,
        {{ json_text_array("record -> 'pricing_indicators'") }} as pricing_indicators,
        nullif(record ->> 'multiple_pricing_indicator', '') as multiple_pricing_indicator,
        nullif(record ->> 'coverage_code', '') as coverage_code,
        nullif(record ->> 'betos_code', '') as betos_code,
        {{ json_text_array("record -> 'type_of_service_codes'") }} as type_of_service_codes,
        {{ json_text_array("record -> 'cross_reference_codes'") }} as cross_reference_codes,
        {{ json_text_array("record -> 'lab_certification_codes'") }}
            as lab_certification_codes,
        {{ json_text_array("record -> 'coverage_issues_manual_sections'") }}
            as coverage_issues_manual_sections,
        {{ json_text_array("record -> 'carriers_manual_sections'") }}
            as carriers_manual_sections,
        nullif(record ->> 'statute_number', '') as statute_number,
        nullif(record ->> 'asc_payment_group', '') as asc_payment_group,
        cast(record ->> 'asc_payment_group_effective_date' as date)
            as asc_payment_group_effective_date,
        nullif(record ->> 'processing_note_number', '') as processing_note_number,
        {{ safe_integer("record ->> 'anesthesia_base_units'") }} as anesthesia_base_units,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
