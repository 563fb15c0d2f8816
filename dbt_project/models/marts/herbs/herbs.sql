-- One row per current NCCIH "Herbs at a Glance" fact sheet, searchable:
-- `select * from marts.search_herbs('sleep', 20)`.
{{ config(
    post_hook=[
        "analyze {{ this }}",
        "{{ create_search_function(
            columns=[
                ('slug', 'text'),
                ('herb_name', 'text'),
                ('latin_names', 'text[]'),
                ('uses', 'text'),
                ('last_updated_date', 'date'),
            ],
            year='last_updated_year',
            prior='last_updated_date',
        ) }}",
    ],
    indexes=[
        {'columns': ['slug'], 'unique': True},
        {'columns': ['search_vector', 'last_updated_year'], 'type': 'gin'},
        {'columns': ['last_updated_date']},
    ],
) }}

with

current_herbs as (
    select * from {{ ref('int_nccih_herbs_current') }}
    where not is_deleted
),

herbs as (
    select
        slug,
        herb_name,
        common_names,
        latin_names,
        uses,
        how_much_we_know,
        what_the_science_says,
        safety,
        keep_in_mind,
        last_updated_date,
        cast(extract(year from last_updated_date) as smallint) as last_updated_year,
        url,
        fetched_at,
        {{ search_vector({
            'A': [
                'herb_name',
                "array_to_string(common_names, ' ')",
                "array_to_string(latin_names, ' ')",
            ],
            'B': ['uses'],
            'C': ['what_the_science_says', 'safety'],
            'D': ['how_much_we_know', 'keep_in_mind'],
        }) }} as search_vector
    from current_herbs
)

select * from herbs
