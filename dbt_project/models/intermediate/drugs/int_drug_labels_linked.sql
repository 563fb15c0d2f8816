-- Which drugs each current label describes (one row per set id and drug). A label's
-- drugs are those of the products it lists (DailyMed products of the set, openFDA NDC
-- listings that name the set); a label without linked products (an openFDA label whose
-- set DailyMed has not landed, listing no NDC product landed) is linked by its own
-- ingredient key (its UNIIs, else its substance or generic names).

with

products as (
    select * from {{ ref('int_drug_products_unioned') }}
),

labels as (
    select * from {{ ref('int_drug_label_sections') }}
),

ingredients as (
    select * from {{ ref('int_drug_ingredients_resolved') }}
),

by_products as (
    select distinct
        set_id,
        drug_id,
        ingredient_key,
        'product' as linked_by
    from products
    where set_id is not null and drug_id is not null
),

label_keys as (
    select
        record_id as set_id,
        string_agg(ingredient_key, '+' order by ingredient_key) as ingredient_key
    from ingredients
    where record_kind = 'openfda_label'
    group by record_id
),

by_label_ingredients as (
    select
        label_keys.set_id,
        {{ drug_id('label_keys.ingredient_key') }} as drug_id,
        label_keys.ingredient_key,
        'label_ingredients' as linked_by
    from label_keys
    where not exists (
            select from by_products
            where by_products.set_id = label_keys.set_id
        )
),

linked as (
    select * from by_products
    union all
    select * from by_label_ingredients
),

-- Only labels that landed as drug labels (not class-indexing SPLs).
current_links as (
    select linked.*
    from linked
    where exists (
            select from labels
            where labels.set_id = linked.set_id
        )
)

select * from current_links
