-- One row per landed PLACES row, typed.
with

source as (
    select
        geography,
        year,
        locationid,
        measureid,
        datavaluetypeid,
        record,
        source_uri,
        _dlt_load_id
    from {{ source('cdcplaces', 'measures') }}
),

measures as (
    select
        geography,
        cast(year as integer) as data_year,
        locationid as location_id,
        case
            when geography = 'county' then locationid
            else coalesce(record ->> 'countyfips', left(locationid, 5))
        end as county_fips,
        measureid as measure_id,
        datavaluetypeid as data_value_type_id,
        record ->> 'stateabbr' as state_abbreviation,
        record ->> 'statedesc' as state_name,
        coalesce(record ->> 'countyname', record ->> 'locationname') as location_name,
        record ->> 'category' as category,
        record ->> 'categoryid' as category_id,
        record ->> 'measure' as measure,
        record ->> 'short_question_text' as short_question_text,
        record ->> 'data_value_type' as data_value_type,
        record ->> 'data_value_unit' as data_value_unit,
        {{ safe_numeric("record ->> 'data_value'") }} as data_value,
        {{ safe_numeric("record ->> 'low_confidence_limit'") }} as low_confidence_limit,
        {{ safe_numeric("record ->> 'high_confidence_limit'") }} as high_confidence_limit,
        {{ safe_integer("record ->> 'totalpopulation'") }} as total_population,
        {{ safe_integer("record ->> 'totalpop18plus'") }} as adult_population,
        record ->> 'data_value_footnote_symbol' as data_value_footnote_symbol,
        record ->> 'data_value_footnote' as data_value_footnote,
        -- The API sends a GeoJSON point; the CSV export the same as WKT `POINT (x y)`.
        {{ safe_numeric(
            "coalesce(record #>> '{geolocation,coordinates,0}', "
            ~ "substring(record ->> 'geolocation' from '^POINT \\((\\S+) '))"
        ) }} as longitude,
        {{ safe_numeric(
            "coalesce(record #>> '{geolocation,coordinates,1}', "
            ~ "substring(record ->> 'geolocation' from ' (\\S+)\\)$'))"
        ) }} as latitude,
        {{ loaded_at('_dlt_load_id') }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from measures
