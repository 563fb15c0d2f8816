-- The DrugCentral releases landed, newest first, with the CC BY-SA 4.0 attribution that
-- goes with every drugcentral_* mart.
{{ config(indexes=[{'columns': ['db_version'], 'unique': True}]) }}

with

releases as (
    select * from {{ ref('stg_drugcentral__releases') }}
),

latest as (
    {{ latest_per_key('releases', 'db_version', 'landed_at desc') }}
)

select
    db_version,
    released_at,
    licence,
    licence_url,
    attribution,
    landed_at,
    db_version = (select max(db_version) from releases) as is_current
from latest
