-- One row per NDC product code as labelled (the labeler and product segments, 0071-0155)
-- in the current DailyMed labels and openFDA NDC directory: its segment format, package
-- count, product type and the labels that list it. The questions DailyMed teams ask of
-- the NDC directory (which format, how many packages, which NDCs several labels list)
-- are columns here and counts in `ndc_labelers`.

with

formulations as (
    select * from {{ ref('drug_formulations') }}
),

products as (
    select * from {{ ref('int_drug_products_unioned') }}
),

ndc_listings as (
    select
        product_ndc,
        product_type,
        spl_set_ids
    from {{ ref('int_openfda_ndc_current') }}
    where not is_deleted
),

labels as (
    select
        set_id,
        document_type_name
    from {{ ref('int_dailymed_labels_current') }}
    where not is_deleted
),

-- Every label set id that lists the product: DailyMed's products, and the SPL set ids
-- openFDA's NDC listing names.
listed_in as (
    select
        ndc_product_code,
        set_id
    from products
    where ndc_product_code is not null and set_id is not null
    union
    select
        ndc_listings.product_ndc,
        listed.set_id
    from ndc_listings
    cross join lateral unnest(ndc_listings.spl_set_ids) as listed (set_id)
    where ndc_listings.product_ndc is not null
),

label_sets as (
    select
        ndc_product_code,
        array_agg(distinct set_id order by set_id) as label_set_ids
    from listed_in
    group by ndc_product_code
),

-- The product type: openFDA's (HUMAN PRESCRIPTION DRUG), else the DailyMed label's
-- document type without its trailing "LABEL".
label_types as (
    select
        listed_in.ndc_product_code,
        min(nullif(trim(regexp_replace(labels.document_type_name, '\s*LABEL$', '')), ''))
            as document_product_type
    from listed_in
    inner join labels on listed_in.set_id = labels.set_id
    group by listed_in.ndc_product_code
),

listing_types as (
    select
        product_ndc,
        min(product_type) as product_type
    from ndc_listings
    group by product_ndc
),

segments as (
    select
        formulations.*,
        split_part(formulations.ndc_product_code, '-', 1) as labeler_code,
        split_part(formulations.ndc_product_code, '-', 2) as product_segment,
        case
            when cardinality(formulations.ndc_package_codes) > 0
                then length(split_part(formulations.ndc_package_codes[1], '-', 3))
            else 10 - length(replace(formulations.ndc_product_code, '-', ''))
        end as package_segment_length
    from formulations
    where formulations.ndc_product_code ~ '^\d{4,5}-\d{3,4}$'
),

final as (
    select
        segments.ndc_product_code,
        segments.ndc_product_code_11,
        segments.labeler_code,
        segments.product_segment,
        length(segments.labeler_code) || '-' || length(segments.product_segment)
        || '-' || segments.package_segment_length as ndc_format,
        length(segments.labeler_code) || '-' || length(segments.product_segment)
        || '-' || segments.package_segment_length in ('4-4-2', '5-3-2', '5-4-1')
            as is_standard_format,
        segments.formulation_id,
        segments.drug_id,
        segments.brand_name,
        segments.generic_name,
        segments.labeler_name,
        segments.dosage_form,
        segments.marketing_category,
        coalesce(listing_types.product_type, label_types.document_product_type)
            as product_type,
        cardinality(segments.ndc_package_codes) as package_count,
        segments.ndc_package_codes,
        coalesce(label_sets.label_set_ids, array[]::text[]) as label_set_ids,
        coalesce(cardinality(label_sets.label_set_ids), 0) as label_count,
        coalesce(cardinality(label_sets.label_set_ids), 0) > 1 as is_in_several_labels,
        segments.is_repackaged,
        segments.sources
    from segments
    left join label_sets on segments.ndc_product_code = label_sets.ndc_product_code
    left join label_types on segments.ndc_product_code = label_types.ndc_product_code
    left join listing_types on segments.ndc_product_code = listing_types.product_ndc
)

select * from final
