-- The latest landing of each county's ACS estimates per vintage, with the poverty rate.
with

estimates as (
    select * from {{ ref('stg_census__estimates') }}
    where geography = 'county'
),

latest as (
    {{ latest_per_key('estimates', 'vintage_year, geoid', 'loaded_at desc') }}
),

counties as (
    select
        geoid as county_fips,
        vintage_year,
        area_name,
        total_population,
        adult_population,
        population_65_and_over,
        median_household_income,
        poverty_universe,
        below_poverty_population,
        case
            when poverty_universe > 0
                then round(100.0 * below_poverty_population / poverty_universe, 2)
        end as poverty_rate,
        loaded_at
    from latest
)

select * from counties
