-- sqlfluff cannot indent the body of a Jinja loop here: layout left to the author.
-- noqa: disable=LT02
-- One row per formulation (an NDC product, or a product listed without an NDC): the
-- DailyMed products and openFDA NDC listings describing it merged into one row, before
-- the Orange Book match the `drug_formulations` mart adds. For each field the original
-- labeler's DailyMed product wins, then the newest label, and openFDA fills what
-- DailyMed lacks; package NDCs and RxNorm ids are merged without duplicates.
-- `source_records` names every landed record it came from. Read by the mart and by the
-- drug names (`int_drug_brand_names`), so that both see the same brand per formulation.

{%- set scalars = [
    ('ndc_product_code', 'text'), ('brand_name', 'text'), ('generic_name', 'text'),
    ('labeler_name', 'text'), ('dosage_form', 'text'), ('strength', 'text'),
    ('marketing_category', 'text'), ('marketing_status', 'text'),
    ('marketing_start_date', 'date'), ('marketing_end_date', 'date'),
    ('application_number', 'text'), ('source_ndc_product_code', 'text'),
    ('set_id', 'text'), ('drug_id', 'text'), ('ingredient_key', 'text'),
] %}

with

products as (
    select * from {{ ref('int_drug_products_unioned') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by formulation_id
            order by
                (source = 'dailymed') desc,
                is_repackaged,
                effective_date desc nulls last,
                product_record_id
        ) as source_rank
    from products
),

merged as (
    select
        formulation_id,
        {%- for column, type in scalars %}
        (array_agg({{ column }} order by source_rank)
            filter (where {{ column }} is not null))[1] as {{ column }},
        {%- endfor %}
        array_agg(distinct source order by source) as sources,
        array_agg(product_record_id order by source_rank) as source_records,
        bool_or(is_repackaged) as is_repackaged,
        bool_and(is_listing_expired) as is_listing_expired,
        max(effective_date) as label_effective_date
    from ranked
    group by formulation_id
),

-- Arrays are not aggregated with array_agg (that makes a two-dimensional array): the
-- best-ranked product with a value gives routes and strengths; packages and RxNorm ids
-- are the union of all.
best_arrays as (
    select distinct on (formulation_id)
        formulation_id,
        routes,
        strength_values
    from ranked
    order by formulation_id, (cardinality(routes) > 0) desc, source_rank
),

-- One pass over the products per array (a subquery per formulation over all products
-- would be quadratic: 130,000 NDC listings took hours).
package_codes as (
    select
        ranked.formulation_id,
        array_agg(distinct package.code order by package.code) as ndc_package_codes
    from ranked
    cross join lateral unnest(ranked.ndc_package_codes) as package (code)
    where package.code is not null
    group by ranked.formulation_id
),

openfda_rxcuis as (
    select
        ranked.formulation_id,
        array_agg(distinct found.rxcui order by found.rxcui) as openfda_rxcuis
    from ranked
    cross join lateral unnest(ranked.openfda_rxcuis) as found (rxcui)
    where found.rxcui is not null
    group by ranked.formulation_id
),

rxnav_rxcuis as (
    select
        ranked.formulation_id,
        array_agg(distinct found.rxcui order by found.rxcui) as rxnav_rxcuis
    from ranked
    cross join lateral unnest(ranked.rxnav_rxcuis) as found (rxcui)
    where found.rxcui is not null
    group by ranked.formulation_id
),

unioned_arrays as (
    select
        merged.formulation_id,
        coalesce(package_codes.ndc_package_codes, '{}') as ndc_package_codes,
        coalesce(openfda_rxcuis.openfda_rxcuis, '{}') as openfda_rxcuis,
        coalesce(rxnav_rxcuis.rxnav_rxcuis, '{}') as rxnav_rxcuis
    from merged
    left join package_codes on merged.formulation_id = package_codes.formulation_id
    left join openfda_rxcuis on merged.formulation_id = openfda_rxcuis.formulation_id
    left join rxnav_rxcuis on merged.formulation_id = rxnav_rxcuis.formulation_id
),

with_packages_11 as (
    select
        merged.*,
        best_arrays.routes,
        best_arrays.strength_values,
        unioned_arrays.ndc_package_codes,
        unioned_arrays.openfda_rxcuis,
        unioned_arrays.rxnav_rxcuis,
        {{ ndc_11_digit('merged.ndc_product_code') }} as ndc_product_code_11,
        array(
            select {{ ndc_11_digit('package.code') }}
            from unnest(unioned_arrays.ndc_package_codes) as package (code)
            order by 1
        ) as ndc_package_codes_11,
        case
            when merged.application_number ~* '^(NDA|ANDA)\s*\d+$' then
                case when merged.application_number ~* '^ANDA' then 'A' else 'N' end
        end as appl_type,
        case
            when merged.application_number ~* '^(NDA|ANDA)\s*\d+$'
                then lpad(substring(merged.application_number from '(\d+)$'), 6, '0')
        end as appl_no
    from merged
    inner join best_arrays on merged.formulation_id = best_arrays.formulation_id
    inner join unioned_arrays on merged.formulation_id = unioned_arrays.formulation_id
)

select * from with_packages_11
