-- sqlfluff cannot indent the body of a Jinja loop here: layout left to the author.
-- noqa: disable=LT02
-- One row per county (FIPS) and year: CDC PLACES prevalences (crude and age-adjusted)
-- next to the ACS 5-year estimates of the same year (vintage), joined on county FIPS.
-- Either side may be missing for a county-year (PLACES mixes two BRFSS years in a
-- release; ACS vintages come out on their own schedule): a full outer join keeps both.
-- Either source may not have landed yet: its side is then empty.
{{ config(indexes=[
    {'columns': ['county_fips', 'year'], 'unique': True},
    {'columns': ['year']},
]) }}

with

places as (
    select
        county_fips,
        data_year,
        measure_id,
        data_value_type_id,
        state_abbreviation,
        location_name,
        data_value,
        total_population
    from {{ ref('int_places_county_measures_current') }}
),

census as (
    select
        county_fips,
        vintage_year,
        area_name,
        total_population,
        adult_population,
        population_65_and_over,
        median_household_income,
        poverty_universe,
        below_poverty_population,
        poverty_rate
    from {{ ref('int_census_county_estimates_current') }}
),

places_per_county_year as (
    select
        county_fips,
        data_year as year,
        max(state_abbreviation) as state_abbreviation,
        max(location_name) as county_name,
        {%- for measure_id, name in rate_measures() %}
        max(case when measure_id = '{{ measure_id }}' and data_value_type_id = 'CrdPrv'
            then data_value end) as {{ name }}_prevalence,
        max(case when measure_id = '{{ measure_id }}' and data_value_type_id = 'AgeAdjPrv'
            then data_value end) as {{ name }}_age_adjusted_prevalence,
        {%- endfor %}
        max(total_population) as places_population,
        count(distinct measure_id) as places_measure_count
    from places
    group by county_fips, data_year
),

joined as (
    select
        coalesce(places_per_county_year.county_fips, census.county_fips) as county_fips,
        coalesce(places_per_county_year.year, census.vintage_year) as year,
        places_per_county_year.state_abbreviation,
        coalesce(places_per_county_year.county_name, split_part(census.area_name, ',', 1))
            as county_name,
        {%- for measure_id, name in rate_measures() %}
        places_per_county_year.{{ name }}_prevalence,
        places_per_county_year.{{ name }}_age_adjusted_prevalence,
        {%- endfor %}
        places_per_county_year.places_population,
        coalesce(places_per_county_year.places_measure_count, 0) as places_measure_count,
        cast(census.total_population as bigint) as population,
        cast(census.adult_population as bigint) as adult_population,
        cast(census.population_65_and_over as bigint) as population_65_and_over,
        cast(census.median_household_income as bigint) as median_household_income,
        cast(census.poverty_universe as bigint) as poverty_universe,
        cast(census.below_poverty_population as bigint) as below_poverty_population,
        census.poverty_rate,
        places_per_county_year.county_fips is not null as has_places,
        census.county_fips is not null as has_census
    from places_per_county_year
    full outer join census
        on places_per_county_year.county_fips = census.county_fips
        and places_per_county_year.year = census.vintage_year
)

select * from joined
