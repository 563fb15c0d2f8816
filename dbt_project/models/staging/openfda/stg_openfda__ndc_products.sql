-- Every landed NDC directory product listing, typed out of `record` (packages are in
-- `stg_openfda__ndc_packages`).

with

source as (
    select * from {{ source('openfda', 'ndc') }}
),

renamed as (
    select
        product_id,
        product_ndc,
        record ->> 'spl_id' as spl_id,
        record ->> 'brand_name' as brand_name,
        record ->> 'brand_name_base' as brand_name_base,
        record ->> 'generic_name' as generic_name,
        record ->> 'labeler_name' as labeler_name,
        record ->> 'product_type' as product_type,
        record ->> 'dosage_form' as dosage_form,
        {{ json_text_array("record -> 'route'") }} as routes,
        record -> 'active_ingredients' as active_ingredients,
        {{ json_field_array("record -> 'active_ingredients'", 'name') }}
            as active_ingredient_names,
        record ->> 'marketing_category' as marketing_category,
        record ->> 'application_number' as application_number,
        record ->> 'dea_schedule' as dea_schedule,
        {{ json_text_array("record -> 'pharm_class'") }} as pharm_classes,
        {{ yyyymmdd_date("record ->> 'marketing_start_date'") }}
            as marketing_start_date,
        {{ yyyymmdd_date("record ->> 'marketing_end_date'") }}
            as marketing_end_date,
        listing_expiration_date,
        {{ safe_boolean("record ->> 'finished'") }} as is_finished,
        {{ json_text_array("record #> '{openfda,spl_set_id}'") }} as spl_set_ids,
        {{ json_text_array("record #> '{openfda,rxcui}'") }} as rxcuis,
        {{ json_text_array("record #> '{openfda,unii}'") }} as uniis,
        jsonb_array_length(
            case jsonb_typeof(record -> 'packaging')
                when 'array' then record -> 'packaging'
                else '[]'::jsonb
            end
        ) as package_count,
        deleted as is_deletion_notice,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
