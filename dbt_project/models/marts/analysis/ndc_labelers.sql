-- One row per NDC labeler code (the first segment of the NDC): the names it labels
-- under, how many products and packages it lists, their types and NDC formats, and how
-- many of its products several labels list.

with

products as (
    select * from {{ ref('ndc_products') }}
),

labelers as (
    select
        labeler_code,
        mode() within group (order by labeler_name) as labeler_name,
        array_agg(distinct labeler_name order by labeler_name)
        filter (where labeler_name is not null) as labeler_names,
        count(*) as product_count,
        sum(package_count) as package_count,
        round(avg(package_count), 2) as packages_per_product,
        max(package_count) as max_packages_per_product,
        array_agg(distinct product_type order by product_type)
        filter (where product_type is not null) as product_types,
        array_agg(distinct ndc_format order by ndc_format) as ndc_formats,
        count(distinct drug_id) as drug_count,
        count(*) filter (where is_in_several_labels) as products_in_several_labels,
        count(*) filter (where is_repackaged) as repackaged_products
    from products
    group by labeler_code
)

select * from labelers
