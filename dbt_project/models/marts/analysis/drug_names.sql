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

with_counts as (
    select
        grouped.*,
        array(
            select distinct drug_ingredients.ingredient
            from drug_ingredients
            where drug_ingredients.drug_id = any(grouped.drug_ids)
            order by 1
        ) as ingredient_names,
        array(
            select distinct drug_brands.brand
            from drug_brands
            where drug_brands.drug_id = any(grouped.drug_ids)
            order by 1
        ) as brand_names,
        array(
            select distinct labelers.labeler_name
            from labelers
            where grouped.name_type = 'brand'
                and labelers.brand_key = grouped.name_key
                and labelers.drug_id = any(grouped.drug_ids)
            order by 1
        ) as labeler_names
    from grouped
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
