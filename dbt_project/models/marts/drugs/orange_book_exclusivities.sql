{{ config(
    indexes=[
        {'columns': ['product_id']},
    ],
) }}

with

exclusivities as (
    select * from {{ ref('int_orange_book_exclusivities_current') }}
),

identified as (
    select
        {{ orange_book_product_id() }} as product_id,
        appl_type,
        appl_no,
        product_no,
        exclusivity_code,
        exclusivity_date,
        released_at
    from exclusivities
)

select * from identified
