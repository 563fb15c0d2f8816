-- One row per landed ACS row: typed estimates, annotation values as nulls.
with

source as (
    select
        year,
        geography,
        geoid,
        record,
        source_uri,
        _dlt_load_id
    from {{ source('census', 'estimates') }}
),

estimates as (
    select
        cast(year as integer) as vintage_year,
        geography,
        geoid,
        left(geoid, 2) as state_fips,
        left(geoid, 5) as county_fips,
        record ->> 'NAME' as area_name,
        {{ census_estimate("record ->> 'B01003_001E'") }} as total_population,
        {{ census_estimate("record ->> 'B09021_001E'") }} as adult_population,
        {{ census_estimate("record ->> 'B09021_022E'") }} as population_65_and_over,
        {{ census_estimate("record ->> 'B19013_001E'") }} as median_household_income,
        {{ census_estimate("record ->> 'B17001_001E'") }} as poverty_universe,
        {{ census_estimate("record ->> 'B17001_002E'") }} as below_poverty_population,
        {{ loaded_at('_dlt_load_id') }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from estimates
