-- One row per product a current landed record lists: each product of the current
-- DailyMed labels and each current openFDA NDC directory listing, with its NDCs as
-- labelled and in the 11-digit form, its ingredient key and drug. `formulation_id`
-- (the 5-4 product NDC, or the record itself when the product has no NDC) is what the
-- formulation marts merge the two sources on. A product whose ingredients cannot be
-- named keeps a null `drug_id` and is counted as unlinked by the consolidation report.

with

labels as (
    select
        set_id,
        spl_version,
        load_id,
        effective_date,
        labeler_name
    from {{ ref('int_dailymed_labels_current') }}
    where not is_deleted
),

products as (
    select
        set_id,
        spl_version,
        load_id,
        product_position,
        ndc_product_code,
        source_ndc_product_code,
        proprietary_name,
        generic_name,
        dosage_form_name,
        route_names,
        active_ingredients,
        marketing_category_name,
        application_number,
        marketing_status,
        marketing_start_date,
        marketing_end_date,
        ndc_package_codes
    from {{ ref('int_dailymed_product_versions') }}
),

ndc_products as (
    select
        product_id,
        product_ndc,
        brand_name,
        generic_name,
        labeler_name,
        dosage_form,
        routes,
        active_ingredients,
        marketing_category,
        application_number,
        marketing_start_date,
        marketing_end_date,
        spl_set_ids,
        rxcuis,
        is_listing_expired,
        last_landed_at
    from {{ ref('int_openfda_ndc_current') }}
    where not is_deleted
),

ndc_packages as (
    select
        product_id,
        package_ndc,
        package_position
    from {{ ref('stg_openfda__ndc_packages') }}
),

ndc_answers as (
    select
        answer_id,
        ndc,
        rxcui,
        fetched_at
    from {{ ref('stg_rxnav__ndc_rxcuis') }}
),

ingredients as (
    select * from {{ ref('int_drug_ingredients_resolved') }}
),

ingredient_keys as (
    select
        record_kind,
        record_id,
        string_agg(ingredient_key, '+' order by ingredient_key) as ingredient_key,
        count(*) as ingredient_count
    from ingredients
    group by record_kind, record_id
),

dailymed_products as (
    select
        'dailymed:' || products.set_id || '#' || products.product_position
            as product_record_id,
        'dailymed' as source,
        'dailymed_product' as record_kind,
        products.set_id || '#' || products.product_position as record_id,
        products.set_id,
        products.spl_version,
        products.ndc_product_code,
        products.ndc_package_codes,
        nullif(trim(products.proprietary_name), '') as brand_name,
        products.generic_name,
        labels.labeler_name,
        products.dosage_form_name as dosage_form,
        products.route_names as routes,
        (
            select
                string_agg(
                    lower(ingredient.item ->> 'name') || ' '
                    || (ingredient.item #>> '{strength,numerator_value}') || ' '
                    || (ingredient.item #>> '{strength,numerator_unit}') || '/'
                    || (ingredient.item #>> '{strength,denominator_value}')
                    || case ingredient.item #>> '{strength,denominator_unit}'
                        when '1' then '' else ingredient.item #>> '{strength,denominator_unit}'
                    end,
                    '; ' order by ingredient.position
                )
            from jsonb_array_elements({{ json_array('products.active_ingredients') }})
                with ordinality as ingredient (item, position)
            where ingredient.item #>> '{strength,numerator_value}' is not null
        ) as strength,
        array(
            select {{ safe_numeric("ingredient.item #>> '{strength,numerator_value}'") }}
            from jsonb_array_elements({{ json_array('products.active_ingredients') }})
                    as ingredient (item)
            order by 1
        ) as strength_values,
        products.marketing_category_name as marketing_category,
        products.marketing_status,
        products.marketing_start_date,
        products.marketing_end_date,
        products.application_number,
        products.source_ndc_product_code,
        products.source_ndc_product_code is not null as is_repackaged,
        labels.effective_date,
        cast(array[] as text[]) as rxcuis,
        false as is_listing_expired
    from products
    inner join labels using (set_id, spl_version, load_id)
),

openfda_packages as (
    select
        product_id,
        array_agg(package_ndc order by package_position) as package_ndcs
    from ndc_packages
    group by product_id
),

openfda_products as (
    select
        'openfda:' || ndc_products.product_id as product_record_id,
        'openfda' as source,
        'openfda_product' as record_kind,
        ndc_products.product_ndc as record_id,
        ndc_products.spl_set_ids[1] as set_id,
        cast(null as bigint) as spl_version,
        ndc_products.product_ndc as ndc_product_code,
        coalesce(openfda_packages.package_ndcs, cast(array[] as text[]))
            as ndc_package_codes,
        nullif(trim(ndc_products.brand_name), '') as brand_name,
        ndc_products.generic_name,
        ndc_products.labeler_name,
        ndc_products.dosage_form,
        ndc_products.routes,
        (
            select
                string_agg(
                    lower(ingredient.item ->> 'name') || ' ' || (ingredient.item ->> 'strength'),
                    '; ' order by ingredient.position
                )
            from jsonb_array_elements({{ json_array('ndc_products.active_ingredients') }})
                with ordinality as ingredient (item, position)
            where ingredient.item ->> 'strength' is not null
        ) as strength,
        array(
            select {{ safe_numeric("substring(ingredient.item ->> 'strength' from '^\s*([0-9.]+)')") }}
            from jsonb_array_elements({{ json_array('ndc_products.active_ingredients') }})
                    as ingredient (item)
            order by 1
        ) as strength_values,
        ndc_products.marketing_category,
        cast(null as text) as marketing_status,
        ndc_products.marketing_start_date,
        ndc_products.marketing_end_date,
        ndc_products.application_number,
        cast(null as text) as source_ndc_product_code,
        false as is_repackaged,
        cast(null as date) as effective_date,
        ndc_products.rxcuis,
        ndc_products.is_listing_expired
    from ndc_products
    left join openfda_packages on ndc_products.product_id = openfda_packages.product_id
),

unioned as (
    select * from dailymed_products
    union all
    select * from openfda_products
),

-- RxNav's latest answer for each NDC it was asked about (a package or product NDC as
-- the drug sources label it).
latest_ndc_answers as (
    select distinct on (ndc)
        ndc,
        answer_id
    from ndc_answers
    order by ndc, fetched_at desc
),

rxnav_rxcuis as (
    select
        unioned.product_record_id,
        array_agg(distinct ndc_answers.rxcui order by ndc_answers.rxcui) as rxcuis
    from unioned
    inner join ndc_answers
        on ndc_answers.ndc = any(unioned.ndc_package_codes || unioned.ndc_product_code)
    inner join latest_ndc_answers on ndc_answers.answer_id = latest_ndc_answers.answer_id
    where ndc_answers.rxcui is not null
    group by unioned.product_record_id
),

keyed as (
    select
        unioned.product_record_id,
        coalesce(
            {{ ndc_11_digit('unioned.ndc_product_code') }}, unioned.product_record_id
        ) as formulation_id,
        unioned.source,
        unioned.set_id,
        unioned.spl_version,
        unioned.ndc_product_code,
        {{ ndc_11_digit('unioned.ndc_product_code') }} as ndc_product_code_11,
        unioned.ndc_package_codes,
        array(
            select {{ ndc_11_digit('package.code') }}
            from unnest(unioned.ndc_package_codes) with ordinality as package (code, position)
            order by package.position
        ) as ndc_package_codes_11,
        unioned.brand_name,
        unioned.generic_name,
        unioned.labeler_name,
        unioned.dosage_form,
        unioned.routes,
        unioned.strength,
        unioned.strength_values,
        unioned.marketing_category,
        unioned.marketing_status,
        unioned.marketing_start_date,
        unioned.marketing_end_date,
        unioned.application_number,
        unioned.source_ndc_product_code,
        unioned.is_repackaged,
        unioned.effective_date,
        unioned.rxcuis as openfda_rxcuis,
        coalesce(rxnav_rxcuis.rxcuis, cast(array[] as text[])) as rxnav_rxcuis,
        unioned.is_listing_expired,
        ingredient_keys.ingredient_key,
        coalesce(ingredient_keys.ingredient_count, 0) as ingredient_count,
        {{ drug_id('ingredient_keys.ingredient_key') }} as drug_id
    from unioned
    left join rxnav_rxcuis on unioned.product_record_id = rxnav_rxcuis.product_record_id
    left join ingredient_keys
        on unioned.record_kind = ingredient_keys.record_kind
        and unioned.record_id = ingredient_keys.record_id
)

select * from keyed
