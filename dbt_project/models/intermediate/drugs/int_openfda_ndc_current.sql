-- The current NDC directory listing of every product NDC: the listing certified through
-- the latest date (a labeler's update or yearly certification moves it), then the newest
-- landing. A product whose current listing expired before today is flagged, not dropped.

{{ config(
    indexes=[
        {'columns': ['product_ndc'], 'unique': True},
    ],
) }}

with

current_listings as (
    {{ current_versions(
        ref('stg_openfda__ndc_products'),
        key='product_ndc',
        newest_first='listing_expiration_date desc nulls last, loaded_at desc',
    ) | indent(4) }}
),

flagged as (
    select
        *,
        coalesce(listing_expiration_date < current_date, false) as is_listing_expired
    from current_listings
)

select * from flagged
