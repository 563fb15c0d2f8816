-- One row per name a drug goes by: each active-ingredient name (`name_type`
-- 'ingredient') and each brand name ('brand'), compared case-insensitively. An
-- ingredient counts the brands of the drugs that contain it (alone or in a
-- combination), a brand the ingredients of the drugs sold under it; a brand naming
-- several drugs (different ingredient sets) is a shared brand name. Length, word count
-- and the last letters of the last word are what name analyses compare.

with

drugs as (
    select * from {{ ref('drugs') }}
),

formulations as (
    select * from {{ ref('drug_formulations') }}
),

ingredient_names as (
    select distinct
        'ingredient' as name_type,
        lower(trim(ingredient.name)) as name_key,
        ingredient.name,
        drugs.drug_id
    from drugs
    cross join lateral unnest(drugs.ingredient_names) as ingredient (name)
    where trim(ingredient.name) <> ''
),

brand_names as (
    select distinct
        'brand' as name_type,
        lower(trim(brand.name)) as name_key,
        brand.name,
        drugs.drug_id
    from drugs
    cross join lateral unnest(drugs.brand_names) as brand (name)
    where trim(brand.name) <> ''
),

named as (
    select * from ingredient_names
    union all
    select * from brand_names
),

-- What the drugs of each name hold: their ingredients and brands.
drug_ingredients as (
    select distinct
        drug_id,
        lower(trim(ingredient.name)) as ingredient
    from drugs
    cross join lateral unnest(drugs.ingredient_names) as ingredient (name)
),

drug_brands as (
    select distinct
        drug_id,
        lower(trim(brand.name)) as brand
    from drugs
    cross join lateral unnest(drugs.brand_names) as brand (name)
),

labelers as (
    select distinct
        lower(trim(brand_name)) as brand_key,
        drug_id,
        labeler_name
    from formulations
    where brand_name is not null and labeler_name is not null
),

grouped as (
    select
        name_type,
        name_key,
        mode() within group (order by name) as name,
        array_agg(distinct drug_id order by drug_id) as drug_ids,
        count(distinct drug_id) as drug_count
    from named
    group by name_type, name_key
),

-- Joins, not a subquery per name over every drug (quadratic at the NDC directory's size).
name_drugs as (
    select
        grouped.name_type,
        grouped.name_key,
        name_drug.drug_id
    from grouped
    cross join lateral unnest(grouped.drug_ids) as name_drug (drug_id)
),

name_ingredients as (
    select
        name_drugs.name_type,
        name_drugs.name_key,
        array_agg(distinct drug_ingredients.ingredient order by drug_ingredients.ingredient)
            as ingredient_names
    from name_drugs
    inner join drug_ingredients on name_drugs.drug_id = drug_ingredients.drug_id
    group by name_drugs.name_type, name_drugs.name_key
),

name_brands as (
    select
        name_drugs.name_type,
        name_drugs.name_key,
        array_agg(distinct drug_brands.brand order by drug_brands.brand) as brand_names
    from name_drugs
    inner join drug_brands on name_drugs.drug_id = drug_brands.drug_id
    group by name_drugs.name_type, name_drugs.name_key
),

name_labelers as (
    select
        name_drugs.name_key,
        array_agg(distinct labelers.labeler_name order by labelers.labeler_name)
            as labeler_names
    from name_drugs
    inner join labelers
        on name_drugs.name_key = labelers.brand_key
        and name_drugs.drug_id = labelers.drug_id
    where name_drugs.name_type = 'brand'
    group by name_drugs.name_key
),

with_counts as (
    select
        grouped.*,
        coalesce(name_ingredients.ingredient_names, '{}') as ingredient_names,
        coalesce(name_brands.brand_names, '{}') as brand_names,
        coalesce(
            case when grouped.name_type = 'brand' then name_labelers.labeler_names end, '{}'
        ) as labeler_names
    from grouped
    left join name_ingredients
        on grouped.name_type = name_ingredients.name_type
        and grouped.name_key = name_ingredients.name_key
    left join name_brands
        on grouped.name_type = name_brands.name_type
        and grouped.name_key = name_brands.name_key
    left join name_labelers on grouped.name_key = name_labelers.name_key
),

final as (
    select
        name_type || ':' || name_key as drug_name_id,
        name_type,
        name,
        name_key,
        drug_ids,
        drug_count,
        ingredient_names,
        cardinality(ingredient_names) as ingredient_count,
        brand_names,
        cardinality(brand_names) as brand_count,
        labeler_names,
        name_type = 'brand' and drug_count > 1 as is_shared_brand_name,
        length(name_key) as name_length,
        cardinality(regexp_split_to_array(name_key, '\s+')) as word_count,
        substring(name_key from '([a-z]{3})$') as suffix_3,
        substring(name_key from '([a-z]{4})$') as suffix_4
    from with_counts
)

select * from final
