-- The patents of the latest complete Orange Book release: the rows of the newest
-- complete landing of patents. A release is a complete snapshot, so whatever is
-- absent from it is gone; a release whose file was rejected leaves the previous one.

with

patents as (
    select * from {{ ref('stg_orangebook__patents') }}
),

-- A second import of the same view: PostgreSQL materialises a CTE used twice, which
-- would parse every landed record of every release.
landings as (
    select
        released_at,
        load_id
    from {{ ref('stg_orangebook__patents') }}
),

loads as (
    select * from {{ ref('stg_orangebook__loads') }}
),

latest_landing as (
    {{ latest_complete_release('landings', 'loads') }}
),

-- distinct: a load job run again after a killed load lands its rows twice in one load.
current_patents as (
    select distinct patents.*
    from patents
    inner join latest_landing
        on patents.released_at = latest_landing.released_at
        and patents.load_id = latest_landing.load_id
)

select * from current_patents
