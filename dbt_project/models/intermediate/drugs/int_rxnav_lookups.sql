-- The values RxNav is asked about (extract/rxnav reads this view and nothing else to
-- decide what to look up): every NDC and drug name the drug sources landed, lower case
-- with single spaces (names) or without spaces (NDCs), once each. NDCs are package NDCs
-- (RxNav maps those, not two-part product NDCs): DailyMed's and the openFDA NDC
-- directory's; names are the Orange Book ingredients (each of "ACETAMINOPHEN; CODEINE
-- PHOSPHATE"), and the generic and brand names of DailyMed products and openFDA NDC
-- listings. A view in the `staging` schema: the loader role that runs the extracts
-- reads `staging` and nothing that dbt builds beyond it (medmirror/roles.py).

{{ config(materialized='view', schema='staging') }}

with

orange_book_products as (
    select ingredient
    from {{ ref('stg_orangebook__products') }}
),

dailymed_products as (
    select
        ndc_package_codes,
        generic_name
    from {{ ref('stg_dailymed__products') }}
),

openfda_packages as (
    select package_ndc
    from {{ ref('stg_openfda__ndc_packages') }}
),

openfda_products as (
    select
        generic_name,
        brand_name
    from {{ ref('stg_openfda__ndc_products') }}
),

ndcs as (
    select package.code as ndc
    from dailymed_products
    cross join lateral unnest(dailymed_products.ndc_package_codes) as package (code)
    union
    select package_ndc from openfda_packages
),

names as (
    select part.name
    from orange_book_products
    cross join
        lateral unnest(string_to_array(orange_book_products.ingredient, ';'))
            as part (name)
    union
    select generic_name from dailymed_products
    union
    select generic_name from openfda_products
    union
    select brand_name from openfda_products
),

lookups as (
    select
        'ndc' as lookup_kind,
        regexp_replace(ndc, '\s+', '', 'g') as lookup_value
    from ndcs
    union
    select
        'name',
        lower(trim(regexp_replace(name, '\s+', ' ', 'g')))
    from names
),

final as (
    select
        lookup_kind,
        lookup_value
    from lookups
    where lookup_value is not null and lookup_value <> ''
)

select * from final
