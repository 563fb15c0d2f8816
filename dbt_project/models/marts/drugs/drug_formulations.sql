-- One row per formulation: an NDC product (its 5-4 product NDC), or a product listed
-- without an NDC. DailyMed and the openFDA NDC directory describing one NDC product are
-- one row (merged in `int_drug_formulations_merged`: the original labeler's DailyMed
-- product wins each field, then the newest label, and openFDA fills what DailyMed
-- lacks). `source_records` names every landed record it came from. The Orange Book
-- therapeutic-equivalence code comes from the product of the same application whose
-- strength (and dosage form) matches, or from the application when all its products
-- share one code.

{{ config(
    indexes=[
        {'columns': ['formulation_id'], 'unique': True},
        {'columns': ['drug_id']},
        {'columns': ['ndc_package_codes_11'], 'type': 'gin'},
    ],
) }}

with

formulations as (
    select * from {{ ref('int_drug_formulations_merged') }}
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
    from formulations
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
                then array['orangebook']
            else cast(array[] as text[])
        end
        || case when cardinality(formulations.rxnav_rxcuis) > 0
                then array['rxnav']
            else cast(array[] as text[])
        end
            as sources,
        formulations.source_records
    from formulations
    left join orange_book_matches
        on formulations.formulation_id = orange_book_matches.formulation_id
)

select * from final
