-- One row per therapeutic class (EPC, MoA, PE, CS, ATC) that any drug has: how many
-- drugs are in it, which, under which brands, and whether several brands share it.

with

drug_classes as (
    select * from {{ ref('drug_classes') }}
),

drugs as (
    select * from {{ ref('drugs') }}
),

members as (
    select
        drug_classes.class_type,
        coalesce(drug_classes.class_code, drug_classes.class_name) as class_key,
        drug_classes.class_name,
        drug_classes.class_code,
        drug_classes.drug_id,
        drugs.generic_name,
        drugs.brand_names,
        drug_classes.sources
    from drug_classes
    inner join drugs on drug_classes.drug_id = drugs.drug_id
),

brands as (
    select distinct
        members.class_type,
        members.class_key,
        brand.brand_name
    from members
    cross join lateral unnest(members.brand_names) as brand (brand_name)
),

brand_lists as (
    select
        class_type,
        class_key,
        array_agg(brand_name order by brand_name) as brand_names
    from brands
    group by class_type, class_key
),

class_sources as (
    select distinct
        members.class_type,
        members.class_key,
        source.name
    from members
    cross join lateral unnest(members.sources) as source (name)
),

source_lists as (
    select
        class_type,
        class_key,
        array_agg(name order by name) as sources
    from class_sources
    group by class_type, class_key
),

classes as (
    select
        class_type || ':' || class_key as pharmacologic_class_id,
        class_type,
        min(class_code) as class_code,
        min(class_name) as class_name,
        class_key,
        count(distinct drug_id) as drug_count,
        array_agg(distinct drug_id order by drug_id) as drug_ids,
        array_agg(distinct generic_name order by generic_name) as generic_names
    from members
    group by class_type, class_key
),

final as (
    select
        classes.pharmacologic_class_id,
        classes.class_type,
        classes.class_code,
        classes.class_name,
        classes.drug_count,
        classes.drug_ids,
        classes.generic_names,
        coalesce(brand_lists.brand_names, array[]::text[]) as brand_names,
        coalesce(cardinality(brand_lists.brand_names), 0) as brand_count,
        coalesce(cardinality(brand_lists.brand_names), 0) > 1 as is_shared_by_brands,
        source_lists.sources
    from classes
    left join brand_lists
        on classes.class_type = brand_lists.class_type
        and classes.class_key = brand_lists.class_key
    left join source_lists
        on classes.class_type = source_lists.class_type
        and classes.class_key = source_lists.class_key
)

select * from final
