-- One row per landed DrugCentral release, with its CC BY-SA attribution.
with

source as (
    select * from {{ source('drugcentral', 'releases') }}
),

releases as (
    select
        db_version,
        released_at,
        licence,
        licence_url,
        attribution,
        landed_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from releases
