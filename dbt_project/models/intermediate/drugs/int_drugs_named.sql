-- One row per drug (one active-moiety set, `drug_id`): its ingredient key, the active
-- moiety UNIIs and ingredient names it is made of, the brands it is sold under and its
-- RxNorm ids. The drugs of the `drugs` mart are those of the current products and
-- labels; this is their name part, read by the mart and by the link dictionary.

with

products as (
    select
        drug_id,
        ingredient_key
    from {{ ref('int_drug_products_unioned') }}
),

links as (
    select
        drug_id,
        ingredient_key
    from {{ ref('int_drug_labels_linked') }}
),

ingredients as (
    select * from {{ ref('int_drug_ingredients_resolved') }}
),

brand_names as (
    select * from {{ ref('int_drug_brand_names') }}
),

rxcuis as (
    select * from {{ ref('int_drug_rxcuis') }}
),

drug_keys as (
    select distinct
        drug_id,
        ingredient_key
    from products
    where drug_id is not null
    union
    select distinct
        drug_id,
        ingredient_key
    from links
),

-- One display name per ingredient key: the moiety's name (UNII keys) or the
-- normalised name (name keys), lower case.
ingredient_names as (
    select distinct on (ingredient_key)
        ingredient_key,
        ingredient_name
    from ingredients
    order by ingredient_key, (resolved_by = 'name_only'), ingredient_name
),

drug_ingredients as (
    select
        drug_keys.drug_id,
        drug_keys.ingredient_key,
        array_agg(key.value order by key.value)
        filter (where key.value not like 'name:%') as active_moiety_uniis,
        array_agg(
            coalesce(ingredient_names.ingredient_name, lower(key.value))
            order by coalesce(ingredient_names.ingredient_name, lower(key.value)))
            as ingredient_names,
        count(*) as ingredient_count,
        bool_or(key.value like 'name:%') as is_keyed_by_name
    from drug_keys
    cross join lateral unnest(string_to_array(drug_keys.ingredient_key, '+')) as key (value)
    left join ingredient_names on key.value = ingredient_names.ingredient_key
    group by drug_keys.drug_id, drug_keys.ingredient_key
),

-- Brands: the brand names that are neither the generic name of the formulation giving
-- them nor the name of one of the drug's ingredients, one spelling per name whatever
-- its case.
brands as (
    select
        brand_names.drug_id,
        array_agg(distinct brand_names.brand_name order by brand_names.brand_name) as names
    from brand_names
    inner join drug_ingredients on brand_names.drug_id = drug_ingredients.drug_id
    where not brand_names.is_generic_name
        and {{ normalised_drug_name('brand_names.brand_name') }} <> all(
            array(
                select {{ normalised_drug_name('name') }}
                from unnest(drug_ingredients.ingredient_names) as name
            )
        )
    group by brand_names.drug_id
),

brands_once as (
    select
        drug_id,
        array(
            select min(name)
            from unnest(names) as name
            group by upper(name)
            order by upper(name)
        ) as brand_names
    from brands
),

rxcui_lists as (
    select
        drug_id,
        array_agg(distinct rxcui order by rxcui) filter (where rxcui_kind = 'product')
            as rxcuis,
        array_agg(distinct rxcui order by rxcui) filter (where rxcui_kind = 'ingredient')
            as ingredient_rxcuis,
        bool_or(source = 'rxnav') as has_rxnav
    from rxcuis
    group by drug_id
),

named as (
    select
        drug_ingredients.drug_id,
        drug_ingredients.ingredient_key,
        drug_ingredients.active_moiety_uniis,
        drug_ingredients.ingredient_names,
        drug_ingredients.ingredient_count,
        drug_ingredients.is_keyed_by_name,
        coalesce(brands_once.brand_names, cast(array[] as text[])) as brand_names,
        coalesce(rxcui_lists.rxcuis, cast(array[] as text[])) as rxcuis,
        coalesce(rxcui_lists.ingredient_rxcuis, cast(array[] as text[]))
            as ingredient_rxcuis,
        coalesce(rxcui_lists.has_rxnav, false) as has_rxnav
    from drug_ingredients
    left join brands_once on drug_ingredients.drug_id = brands_once.drug_id
    left join rxcui_lists on drug_ingredients.drug_id = rxcui_lists.drug_id
)

select * from named
