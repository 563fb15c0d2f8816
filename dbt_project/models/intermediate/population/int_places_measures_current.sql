-- The latest landing of each PLACES estimate, county and tract (geography, location,
-- data year, measure, value type): a newer release's row replaces the older one's,
-- whether it came from the API or a CSV export.
with

measures as (
    select * from {{ ref('stg_cdcplaces__measures') }}
),

latest as (
    {{ latest_per_key(
        'measures',
        'geography, data_year, location_id, measure_id, data_value_type_id',
        'loaded_at desc',
    ) }}
)

select * from latest
