-- The products of the latest complete Orange Book release: the rows of the newest
-- complete landing of products. A release is a complete snapshot, so whatever is
-- absent from it is gone; a release whose file was rejected leaves the previous one.

with

products as (
    select * from {{ ref('stg_orangebook__products') }}
),

-- A second import of the same view: PostgreSQL materialises a CTE used twice, which
-- would parse every landed record of every release.
landings as (
    select
        released_at,
        load_id
    from {{ ref('stg_orangebook__products') }}
),

loads as (
    select * from {{ ref('stg_orangebook__loads') }}
),

latest_landing as (
    {{ latest_complete_release('landings', 'loads') }}
),

-- distinct: a load job run again after a killed load lands its rows twice in one load.
current_products as (
    select distinct products.*
    from products
    inner join latest_landing
        on products.released_at = latest_landing.released_at
        and products.load_id = latest_landing.load_id
)

select * from current_products
