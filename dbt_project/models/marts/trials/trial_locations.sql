-- One row per site of a current study, in the study's order: where to find a trial near
-- a patient (city, state, zip, country, the publisher's geo point) and whether that site
-- recruits.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys('nct_id', ref('int_studies_deduplicated')) }}",
    indexes=[
        {'columns': ['trial_location_id'], 'unique': True},
        {'columns': ['nct_id']},
        {'columns': ['country', 'state', 'city']},
        {'columns': ['zip']},
        {'columns': ['last_landed_at']},
    ],
) }}

with

studies as (
    select * from {{ ref('int_studies_deduplicated') }}
    where not is_deleted and {{ newer_than_built() }}
),

locations as (
    select
        studies.nct_id || '-' || site.position as trial_location_id,
        studies.nct_id,
        site.position as location_position,
        site.item ->> 'facility' as facility,
        site.item ->> 'status' as site_status,
        site.item ->> 'city' as city,
        site.item ->> 'state' as state,
        site.item ->> 'zip' as zip,
        site.item ->> 'country' as country,
        {{ safe_numeric("site.item #>> '{geoPoint,lat}'") }} as latitude,
        {{ safe_numeric("site.item #>> '{geoPoint,lon}'") }} as longitude,
        studies.overall_status,
        studies.last_landed_at
    from studies
    cross join lateral jsonb_array_elements(
        {{ json_array('studies.locations') }}
    ) with ordinality as site (item, position)
)

select * from locations
