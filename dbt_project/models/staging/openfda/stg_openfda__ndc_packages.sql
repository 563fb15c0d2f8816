-- One row per package of every landed NDC product listing (`packaging[]` of `record`).

with

source as (
    select * from {{ source('openfda', 'ndc') }}
),

packages as (
    select
        source.product_id,
        source.product_ndc,
        package.item ->> 'package_ndc' as package_ndc,
        cast(package.position as integer) as package_position,
        package.item ->> 'description' as description,
        {{ yyyymmdd_date("package.item ->> 'marketing_start_date'") }}
            as marketing_start_date,
        {{ yyyymmdd_date("package.item ->> 'marketing_end_date'") }}
            as marketing_end_date,
        {{ safe_boolean("package.item ->> 'sample'") }} as is_sample,
        source.listing_expiration_date,
        {{ loaded_at('source._dlt_load_id') }} as loaded_at,
        source._dlt_load_id as load_id,
        source.source_uri
    from source
    cross join lateral jsonb_array_elements(
        case jsonb_typeof(source.record -> 'packaging')
            when 'array' then source.record -> 'packaging'
            else '[]'::jsonb
        end
    ) with ordinality as package (item, position)
)

select * from packages
