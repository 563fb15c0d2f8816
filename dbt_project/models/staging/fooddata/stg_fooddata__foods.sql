-- One row per landed food record, typed out of `record`. FDC's three record shapes
-- (full, abridged, search result) name some fields differently; `nutrients` keeps
-- the nutrient list in whichever shape the record has (see `food_nutrients`).
with

source as (
    select * from {{ source('fooddata', 'foods') }}
),

documents as (
    select
        source.*,
        document.record as parsed
    from source
    cross join lateral ({{ detoast('source.record') }}) as document
),

renamed as (
    select
        fdc_id,
        parsed ->> 'description' as description,
        data_type,
        published_date,
        case
            when parsed ->> 'modifiedDate' ~ '^\d{4}-\d{2}-\d{2}$'
                then cast(parsed ->> 'modifiedDate' as date)
        end as modified_date,
        parsed ->> 'brandOwner' as brand_owner,
        parsed ->> 'brandName' as brand_name,
        parsed ->> 'gtinUpc' as gtin_upc,
        parsed ->> 'ingredients' as ingredients,
        case
            when jsonb_typeof(parsed -> 'servingSize') = 'number'
                then cast(parsed ->> 'servingSize' as numeric)
        end as serving_size,
        parsed ->> 'servingSizeUnit' as serving_size_unit,
        parsed ->> 'householdServingFullText' as household_serving,
        coalesce(
            parsed ->> 'brandedFoodCategory',
            case jsonb_typeof(parsed -> 'foodCategory')
                when 'string' then parsed ->> 'foodCategory'
                when 'object' then parsed #>> '{foodCategory,description}'
            end
        ) as food_category,
        parsed ->> 'ndbNumber' as ndb_number,
        parsed ->> 'foodCode' as food_code,
        record_format,
        case record_format when 'full' then 0 when 'abridged' then 1 else 2 end
            as format_rank,
        coalesce(parsed -> 'foodNutrients', '[]'::jsonb) as nutrients,
        deleted as is_deletion_notice,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from documents
)

select * from renamed
