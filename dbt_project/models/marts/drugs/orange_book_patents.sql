{{ config(
    indexes=[
        {'columns': ['product_id']},
        {'columns': ['patent_no']},
    ],
) }}

with

patents as (
    select * from {{ ref('int_orange_book_patents_current') }}
),

identified as (
    select
        {{ orange_book_product_id() }} as product_id,
        appl_type,
        appl_no,
        product_no,
        patent_no,
        patent_use_code,
        is_pediatric_exclusivity,
        patent_expire_date,
        is_drug_substance_claim,
        is_drug_product_claim,
        is_delist_requested,
        submission_date,
        released_at
    from patents
)

select * from identified
