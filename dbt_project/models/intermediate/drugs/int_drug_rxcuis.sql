-- The RxNorm ids of each drug: product-level ids of its formulations (openFDA's
-- `openfda.rxcui`, RxNav's answer for a package or product NDC) and the ingredient ids
-- (IN, MIN) RxNav relates them to. Attributes only: a drug's key never depends on them.

with

products as (
    select * from {{ ref('int_drug_products_unioned') }}
),

links as (
    select * from {{ ref('int_drug_labels_linked') }}
),

openfda_labels as (
    select
        set_id,
        rxcuis
    from {{ ref('int_openfda_labels_current') }}
    where not is_deleted
),

related as (
    select
        rxcui,
        related_rxcui,
        related_name,
        related_tty
    from {{ ref('stg_rxnav__related_ingredients') }}
),

product_rxcuis as (
    select distinct
        products.drug_id,
        found.rxcui,
        case when found.rxcui = any(products.rxnav_rxcuis) then 'rxnav' else 'openfda' end
            as source
    from products
    cross join
        lateral unnest(products.openfda_rxcuis || products.rxnav_rxcuis)
            as found (rxcui)
    where products.drug_id is not null
    union
    select distinct
        links.drug_id,
        found.rxcui,
        'openfda'
    from links
    inner join openfda_labels on links.set_id = openfda_labels.set_id
    cross join lateral unnest(openfda_labels.rxcuis) as found (rxcui)
),

ingredient_rxcuis as (
    select distinct
        product_rxcuis.drug_id,
        related.related_rxcui as rxcui,
        'rxnav' as source
    from product_rxcuis
    inner join related on product_rxcuis.rxcui = related.rxcui
    where related.related_tty in ('IN', 'MIN')
),

unioned as (
    select
        drug_id,
        rxcui,
        'product' as rxcui_kind,
        source
    from product_rxcuis
    union all
    select
        drug_id,
        rxcui,
        'ingredient',
        source
    from ingredient_rxcuis
)

select * from unioned
