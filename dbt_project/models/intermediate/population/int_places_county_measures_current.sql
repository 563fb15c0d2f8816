-- The latest landing of each PLACES county estimate (county, data year, measure, value
-- type): a newer release's row replaces the older one's.
with

measures as (
    select * from {{ ref('stg_cdcplaces__measures') }}
    where geography = 'county'
),

latest as (
    {{ latest_per_key(
        'measures', 'data_year, location_id, measure_id, data_value_type_id', 'loaded_at desc'
    ) }}
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
from latest
