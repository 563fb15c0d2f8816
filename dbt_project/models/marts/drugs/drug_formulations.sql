-- One row per formulation: an NDC product (its 5-4 product NDC), or a product listed
-- without an NDC. DailyMed and the openFDA NDC directory describing one NDC product are
-- one row: for each field the original labeler's DailyMed product wins, then the newest
-- label, and openFDA fills what DailyMed lacks; package NDCs and sources are merged
-- without duplicates. `source_records` names every landed record it came from. The
-- Orange Book therapeutic-equivalence code comes from the product of the same
-- application whose strength (and dosage form) matches, or from the application when
-- all its products share one code.

{{ config(
    indexes=[
        {'columns': ['formulation_id'], 'unique': True},
        {'columns': ['drug_id']},
        {'columns': ['ndc_package_codes_11'], 'type': 'gin'},
    ],
) }}

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

orange_book as (
    select
        appl_type,
        appl_no,
        product_no,
        te_code,
        strength,
        dosage_form
    from {{ ref('int_orange_book_products_current') }}
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

unioned_arrays as (
    select
        ranked.formulation_id,
        array(
            select distinct package.code
            from ranked as each_product
            cross join lateral unnest(each_product.ndc_package_codes) as package (code)
            where each_product.formulation_id = ranked.formulation_id
                and package.code is not null
            order by 1
        ) as ndc_package_codes,
        array(
            select distinct found.rxcui
            from ranked as each_product
            cross join lateral unnest(each_product.openfda_rxcuis) as found (rxcui)
            where each_product.formulation_id = ranked.formulation_id
                and found.rxcui is not null
            order by 1
        ) as openfda_rxcuis,
        array(
            select distinct found.rxcui
            from ranked as each_product
            cross join lateral unnest(each_product.rxnav_rxcuis) as found (rxcui)
            where each_product.formulation_id = ranked.formulation_id
                and found.rxcui is not null
            order by 1
        ) as rxnav_rxcuis
    from ranked
    where ranked.source_rank = 1
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
),

orange_book_strengths as (
    select
        orange_book.*,
        array(
            select cast(number.match[1] as numeric)
            from regexp_matches(orange_book.strength, '(\d+(?:\.\d+)?)', 'g')
                as number (match)
            order by 1
        ) as strength_values
    from orange_book
),

candidates as (
    select
        formulations.formulation_id,
        orange_book_strengths.appl_type,
        orange_book_strengths.appl_no,
        orange_book_strengths.product_no,
        orange_book_strengths.te_code,
        orange_book_strengths.strength_values = formulations.strength_values
            as is_same_strength,
        upper(formulations.dosage_form)
            like split_part(upper(orange_book_strengths.dosage_form), ',', 1) || '%'
            as is_same_form
    from with_packages_11 as formulations
    inner join orange_book_strengths
        on formulations.appl_type = orange_book_strengths.appl_type
        and formulations.appl_no = orange_book_strengths.appl_no
),

-- The product: the one candidate of matching strength, else of matching strength and
-- form; none when still ambiguous.
product_matches as (
    select
        formulation_id,
        case
            when count(*) filter (where is_same_strength) = 1
                then min(appl_type || appl_no || '-' || product_no) filter (where is_same_strength)
            when count(*) filter (where is_same_strength and is_same_form) = 1
                then min(appl_type || appl_no || '-' || product_no)
                    filter (where is_same_strength and is_same_form)
        end as orange_book_product_id,
        case
            when count(distinct te_code) filter (where is_same_strength) = 1
                then min(te_code) filter (where is_same_strength)
            when count(*) filter (where is_same_strength) = 0
                and count(distinct te_code) = 1 and count(te_code) = count(*)
                then min(te_code)
        end as application_te_code
    from candidates
    group by formulation_id
),

orange_book_matches as (
    select
        product_matches.formulation_id,
        product_matches.orange_book_product_id,
        coalesce(matched.te_code, product_matches.application_te_code) as te_code
    from product_matches
    left join orange_book as matched
        on product_matches.orange_book_product_id
        = {{ orange_book_product_id('matched') }}
),

final as (
    select
        formulations.formulation_id,
        formulations.drug_id,
        formulations.ingredient_key,
        formulations.ndc_product_code,
        formulations.ndc_product_code_11,
        formulations.ndc_package_codes,
        formulations.ndc_package_codes_11,
        formulations.brand_name,
        formulations.generic_name,
        formulations.labeler_name,
        formulations.strength,
        formulations.dosage_form,
        formulations.routes,
        formulations.marketing_category,
        formulations.marketing_status,
        formulations.marketing_start_date,
        formulations.marketing_end_date,
        formulations.application_number,
        orange_book_matches.orange_book_product_id,
        orange_book_matches.te_code,
        formulations.is_repackaged,
        formulations.source_ndc_product_code,
        formulations.set_id,
        formulations.label_effective_date,
        array(
            select distinct found.rxcui
            from unnest(formulations.openfda_rxcuis || formulations.rxnav_rxcuis)
                as found (rxcui)
            order by 1
        ) as rxcuis,
        coalesce(formulations.is_listing_expired, false) as is_listing_expired,
        formulations.sources
        || case when orange_book_matches.te_code is not null
            or orange_book_matches.orange_book_product_id is not null
            then array['orangebook'] else cast(array[] as text[]) end
        || case when cardinality(formulations.rxnav_rxcuis) > 0
            then array['rxnav'] else cast(array[] as text[]) end
            as sources,
        formulations.source_records
    from with_packages_11 as formulations
    left join orange_book_matches
        on formulations.formulation_id = orange_book_matches.formulation_id
)

select * from final
