-- The latest landing of each PLACES county estimate (county, data year, measure, value
-- type): a newer release's row replaces the older one's.
with

measures as (
    select * from {{ ref('int_places_measures_current') }}
    where geography = 'county'
)

select
    location_id as county_fips,
    data_year,
    measure_id,
    data_value_type_id,
    state_abbreviation,
    location_name,
    data_value,
    low_confidence_limit,
    high_confidence_limit,
    total_population,
    loaded_at
from measures
