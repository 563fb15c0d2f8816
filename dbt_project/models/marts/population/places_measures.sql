-- One row per CDC PLACES estimate of every measure the landed releases hold, county and
-- census tract level: geography, location (FIPS), data year, measure and value type
-- (crude or age-adjusted prevalence), with its confidence limits and population.
{{ config(indexes=[
    {'columns': ['geography', 'location_id', 'data_year', 'measure_id', 'data_value_type_id'],
     'unique': True},
    {'columns': ['measure_id', 'data_year']},
    {'columns': ['county_fips']},
]) }}

with

measures as (
    select * from {{ ref('int_places_measures_current') }}
),

places_measures as (
    select
        geography,
        location_id,
        county_fips,
        data_year,
        measure_id,
        data_value_type_id,
        state_abbreviation,
        state_name,
        location_name,
        category_id,
        category,
        measure,
        short_question_text,
        data_value_type,
        data_value_unit,
        data_value,
        low_confidence_limit,
        high_confidence_limit,
        data_value_footnote_symbol,
        data_value_footnote,
        total_population,
        adult_population,
        latitude,
        longitude,
        source_uri,
        loaded_at
    from measures
)

select * from places_measures
