-- The exclusivities of the latest complete Orange Book release: the rows of the newest
-- complete landing of exclusivities. A release is a complete snapshot, so whatever is
-- absent from it is gone; a release whose file was rejected leaves the previous one.
-- Rows listed twice are kept once.

with

exclusivities as (
    select * from {{ ref('stg_orangebook__exclusivities') }}
),

-- A second import of the same view: PostgreSQL materialises a CTE used twice, which
-- would parse every landed record of every release.
landings as (
    select
        released_at,
        load_id
    from {{ ref('stg_orangebook__exclusivities') }}
),

loads as (
    select * from {{ ref('stg_orangebook__loads') }}
),

latest_landing as (
    {{ latest_complete_release('landings', 'loads') }}
),

-- exclusivity.txt lists some rows twice, identically (15 in the 2024-05 release).
current_exclusivities as (
    select distinct exclusivities.*
    from exclusivities
    inner join latest_landing
        on exclusivities.released_at = latest_landing.released_at
        and exclusivities.load_id = latest_landing.load_id
)

select * from current_exclusivities
