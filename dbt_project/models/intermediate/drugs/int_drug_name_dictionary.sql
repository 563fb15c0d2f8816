-- The name and code dictionary the drug links are made with: for every drug (one
-- active-moiety set), each identifier or name that points at it, normalised the way
-- `normalised_drug_name` normalises every source's names.
--   unii:   the drug's sorted active-moiety UNIIs (its ingredient key) and, for a single
--           moiety, each ingredient UNII the labels tie to that moiety (salts, hydrates);
--   rxnorm: RxNorm ingredient ids of its products (IN or PIN for a single moiety, MIN for
--           a combination; a combination's single-ingredient INs are never its names);
--   name:   the set of its moieties' names (`drug_name_set`, e.g. `DIPHENHYDRAMINE +
--           PHENYLEPHRINE`) and, for a single moiety, every label and substance name
--           the labels tie to that moiety;
--   brand:  its brand names (formulations, openFDA labels), normalised whole.
-- Built from the drug intermediates (`int_drugs_named`: the drugs of the `drugs` mart;
-- `int_drug_brand_names`: their brands), never from a mart. A value that points at two
-- drugs (`drugs_sharing_value` > 1; names and brands count together) is ambiguous: it
-- is kept here and listed, but never makes a link.

with

drug_keys as (
    select
        drug_id,
        ingredient_key
    from {{ ref('int_drugs_named') }}
),

ingredients as (
    select * from {{ ref('int_drug_ingredients_resolved') }}
),

moieties as (
    select * from {{ ref('int_drug_moieties') }}
),

rxcuis as (
    select * from {{ ref('int_drug_rxcuis') }}
),

brand_names as (
    select
        drug_id,
        brand_name
    from {{ ref('int_drug_brand_names') }}
),

related as (
    select
        rxcui,
        related_rxcui,
        related_tty
    from {{ ref('stg_rxnav__related_ingredients') }}
),

components as (
    select
        drug_keys.drug_id,
        drug_keys.ingredient_key,
        key.value as component_key,
        cardinality(string_to_array(drug_keys.ingredient_key, '+')) as ingredient_count
    from drug_keys
    cross join lateral unnest(string_to_array(drug_keys.ingredient_key, '+')) as key (value)
),

-- One name per component: the moiety's name (as the drugs mart shows it).
component_names as (
    select distinct on (ingredient_key)
        ingredient_key as component_key,
        ingredient_name
    from ingredients
    order by ingredient_key, (resolved_by = 'name_only'), ingredient_name
),

uniis as (
    select
        drug_id,
        ingredient_key,
        'unii' as lookup_kind,
        ingredient_key as lookup_value,
        'active_moiety_uniis' as name_origin
    from drug_keys
    where ingredient_key not like '%name:%'
    union all
    select
        components.drug_id,
        components.ingredient_key,
        'unii',
        moieties.lookup_value,
        'ingredient_unii'
    from components
    inner join moieties
        on moieties.moiety_unii = components.component_key
        and moieties.lookup_kind = 'unii'
    where components.ingredient_count = 1
        and moieties.lookup_value <> components.component_key
),

rxnorm_ids as (
    select distinct
        components.drug_id,
        components.ingredient_key,
        'rxnorm' as lookup_kind,
        related.related_rxcui as lookup_value,
        'rxnorm_' || lower(related.related_tty) as name_origin
    from components
    inner join rxcuis
        on rxcuis.drug_id = components.drug_id and rxcuis.rxcui_kind = 'product'
    inner join related on related.rxcui = rxcuis.rxcui
    where (components.ingredient_count = 1 and related.related_tty in ('IN', 'PIN'))
        or (components.ingredient_count > 1 and related.related_tty = 'MIN')
),

component_normalised as (
    select
        components.drug_id,
        components.ingredient_key,
        {{ normalised_drug_name(
            "coalesce(component_names.ingredient_name, substr(components.component_key, 6))"
        ) }} as name
    from components
    left join component_names on components.component_key = component_names.component_key
),

names as (
    -- The whole set, one name per moiety.
    select
        drug_id,
        ingredient_key,
        'name' as lookup_kind,
        string_agg(distinct name, ' + ' order by name) as lookup_value,
        'generic_name' as name_origin
    from component_normalised
    group by drug_id, ingredient_key
    union all
    -- Every other name the labels tie to a single moiety.
    select
        components.drug_id,
        components.ingredient_key,
        'name',
        moieties.lookup_value,
        'label_substance_name'
    from components
    inner join moieties
        on moieties.moiety_unii = components.component_key
        and moieties.lookup_kind = 'name'
    where components.ingredient_count = 1
),

brands as (
    select distinct
        brand_names.drug_id,
        drug_keys.ingredient_key,
        'brand' as lookup_kind,
        {{ normalised_drug_name('brand_names.brand_name') }} as lookup_value,
        'brand_name' as name_origin
    from brand_names
    inner join drug_keys on brand_names.drug_id = drug_keys.drug_id
),

unioned as (
    select * from uniis
    union all
    select * from rxnorm_ids
    union all
    select * from names
    union all
    select * from brands
),

-- One row per drug, kind and value (the first origin in a stable order).
deduplicated as (
    select distinct on (drug_id, lookup_kind, lookup_value) *
    from unioned
    where lookup_value is not null and lookup_value <> ''
    order by drug_id, lookup_kind, lookup_value, name_origin
),

-- Names and brands are one namespace: source text is looked up in both.
sharing as (
    select
        case when lookup_kind in ('name', 'brand') then 'text' else lookup_kind end
            as namespace,
        lookup_value,
        count(distinct drug_id) as drugs_sharing_value
    from deduplicated
    group by 1, 2
),

counted as (
    select
        deduplicated.*,
        sharing.drugs_sharing_value
    from deduplicated
    inner join sharing
        on sharing.lookup_value = deduplicated.lookup_value
        and sharing.namespace = case
            when deduplicated.lookup_kind in ('name', 'brand') then 'text'
            else deduplicated.lookup_kind
        end
),

final as (
    select
        md5(drug_id || '|' || lookup_kind || '|' || lookup_value) as drug_name_id,
        drug_id,
        ingredient_key,
        lookup_kind,
        lookup_value,
        name_origin,
        cast(drugs_sharing_value as integer) as drugs_sharing_value,
        drugs_sharing_value > 1 as is_ambiguous
    from counted
)

select * from final
