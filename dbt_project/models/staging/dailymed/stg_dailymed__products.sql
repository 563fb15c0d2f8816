-- One row per product of each landed label version (a kit's parts stay in `parts`).
with

source as (
    select
        landed.set_id,
        landed.version,
        landed._dlt_load_id,
        document.record
    from {{ source('dailymed', 'labels') }} as landed
    cross join lateral ({{ detoast('landed.record') }}) as document
),

products as (
    select
        source.set_id,
        source.version,
        source._dlt_load_id,
        product.item,
        product.position
    from source
    cross join lateral jsonb_array_elements(
        case jsonb_typeof(source.record -> 'products')
            when 'array' then source.record -> 'products'
            else '[]'::jsonb
        end
    ) with ordinality as product (item, position)
),

renamed as (
    select
        set_id,
        version as spl_version,
        cast(position as integer) as product_position,
        _dlt_load_id as load_id,
        {{ loaded_at() }} as loaded_at,
        item ->> 'ndc_product_code' as ndc_product_code,
        item ->> 'source_ndc_product_code' as source_ndc_product_code,
        item ->> 'proprietary_name' as proprietary_name,
        item -> 'generic_names' ->> 0 as generic_name,
        item #>> '{dosage_form,code}' as dosage_form_code,
        item #>> '{dosage_form,name}' as dosage_form_name,
        {{ json_field_array("item -> 'routes'", 'name') }} as route_names,
        {{ json_field_array("item -> 'active_ingredients'", 'name') }}
            as active_ingredient_names,
        {{ json_field_array("item -> 'active_ingredients'", 'unii') }}
            as active_ingredient_uniis,
        array(
            select distinct moiety.item ->> 'name'
            from jsonb_array_elements(coalesce(item -> 'active_ingredients', '[]'::jsonb))
                    as ingredient (item)
            cross join
                lateral jsonb_array_elements(
                    coalesce(ingredient.item -> 'active_moieties', '[]'::jsonb)
                ) as moiety (item)
            where moiety.item ->> 'name' is not null
        ) as active_moiety_names,
        array(
            select distinct moiety.item ->> 'unii'
            from jsonb_array_elements(coalesce(item -> 'active_ingredients', '[]'::jsonb))
                    as ingredient (item)
            cross join
                lateral jsonb_array_elements(
                    coalesce(ingredient.item -> 'active_moieties', '[]'::jsonb)
                ) as moiety (item)
            where moiety.item ->> 'unii' is not null
        ) as active_moiety_uniis,
        item #>> '{marketing_category,code}' as marketing_category_code,
        item #>> '{marketing_category,name}' as marketing_category_name,
        item ->> 'application_number' as application_number,
        item ->> 'marketing_status' as marketing_status,
        cast(item ->> 'marketing_start_date' as date) as marketing_start_date,
        cast(item ->> 'marketing_end_date' as date) as marketing_end_date,
        {{ json_field_array("item -> 'packages'", 'ndc_package_code') }} as ndc_package_codes,
        item -> 'packages' as packages,
        item -> 'active_ingredients' as active_ingredients,
        item -> 'inactive_ingredients' as inactive_ingredients,
        item -> 'parts' as parts
    from products
)

select * from renamed
