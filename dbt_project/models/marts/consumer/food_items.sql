-- Analysed after each build: the search function reads the planner's match estimates.
{{ config(
    post_hook=[
        "analyze {{ this }}",
        "{{ create_search_function(
            columns=[
                ('fdc_id', 'bigint'),
                ('description', 'text'),
                ('data_type', 'text'),
                ('brand_owner', 'text'),
                ('brand_name', 'text'),
                ('published_date', 'date'),
            ],
            year='published_year',
            prior='published_date',
        ) }}",
    ],
    indexes=[
        {'columns': ['fdc_id'], 'unique': True},
        {'columns': ['search_vector', 'published_year'], 'type': 'gin'},
        {'columns': ['published_date']},
    ],
) }}

with

foods as (
    select * from {{ ref('int_foods_deduplicated') }}
),

current_foods as (
    select
        fdc_id,
        description,
        data_type,
        brand_owner,
        brand_name,
        gtin_upc,
        ingredients,
        serving_size,
        serving_size_unit,
        household_serving,
        food_category,
        ndb_number,
        food_code,
        published_date,
        cast(extract(year from published_date) as smallint) as published_year,
        modified_date,
        jsonb_array_length(nutrients) as nutrient_count,
        record_format
    from foods
    where not is_deleted
),

searchable as (
    select
        *,
        {{ search_vector({
            'A': ['description', 'brand_name'],
            'B': ['brand_owner', 'food_category'],
            'C': ['ingredients'],
            'D': ['data_type', 'gtin_upc'],
        }) }} as search_vector
    from current_foods
)

select * from searchable
