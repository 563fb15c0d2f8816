-- One row per active moiety of every current landed product and label: the key the drug
-- it belongs to is built from (`ingredient_key`). The key is the active moiety's UNII:
--   1. as a DailyMed product names it (each active ingredient's active moieties);
--   2. else the moiety `int_drug_moieties` ties the ingredient's UNII to;
--   3. else the moiety it ties the ingredient's normalised name to (salt, case and
--      dosage-form words removed by `normalised_drug_name`);
--   4. else, with no UNII known, `name:` and the normalised name.
-- Records: DailyMed products of the current labels (`dailymed_product`, id
-- `set_id#position`), openFDA NDC products (`openfda_product`, id the product NDC) and
-- openFDA labels (`openfda_label`, id the set id: their UNIIs when every one resolves,
-- else their substance names, else their generic names split at commas and "and").
-- A record without any ingredient, UNII or name has no rows: it is counted as unlinked.

{%- set split_names = "'\\s*(,|\\+|/|\\mand\\M|\\mwith\\M)\\s*'" %}

with

labels as (
    select
        set_id,
        spl_version,
        load_id
    from {{ ref('int_dailymed_labels_current') }}
    where not is_deleted
),

products as (
    select
        set_id,
        spl_version,
        load_id,
        product_position,
        generic_name,
        active_ingredients
    from {{ ref('int_dailymed_product_versions') }}
),

ndc_products as (
    select
        product_ndc,
        active_ingredient_names,
        uniis,
        generic_name
    from {{ ref('int_openfda_ndc_current') }}
    where not is_deleted
),

openfda_labels as (
    select
        set_id,
        uniis,
        substance_names,
        generic_names
    from {{ ref('int_openfda_labels_current') }}
    where not is_deleted
),

moieties as (
    select * from {{ ref('int_drug_moieties') }}
),

current_products as (
    select products.*
    from products
    inner join labels using (set_id, spl_version, load_id)
),

-- What each record says about each ingredient: a moiety UNII it names, the ingredient's
-- UNII, the name to resolve.
dailymed_ingredients as (
    select
        'dailymed_product' as record_kind,
        current_products.set_id || '#' || current_products.product_position as record_id,
        moiety.item ->> 'unii' as moiety_unii,
        ingredient.item ->> 'unii' as ingredient_unii,
        coalesce(moiety.item ->> 'name', ingredient.item ->> 'name') as ingredient_name
    from current_products
    cross join
        lateral jsonb_array_elements(
            {{ json_array('current_products.active_ingredients') }}
        ) as ingredient (item)
    left join lateral jsonb_array_elements(
        {{ json_array("ingredient.item -> 'active_moieties'") }}
    ) as moiety (item) on true
),

-- A product listed without active ingredients: its generic name's parts.
dailymed_generic_names as (
    select
        'dailymed_product' as record_kind,
        current_products.set_id || '#' || current_products.product_position as record_id,
        null as moiety_unii,
        null as ingredient_unii,
        part.name as ingredient_name
    from current_products
    cross join
        lateral regexp_split_to_table(
            current_products.generic_name, {{ split_names }}, 'i'
        ) as part (name)
    where jsonb_array_length({{ json_array('current_products.active_ingredients') }}) = 0
        and part.name <> ''
),

-- One ingredient and one UNII: the UNII is that ingredient's.
ndc_ingredients as (
    select
        'openfda_product' as record_kind,
        ndc_products.product_ndc as record_id,
        null as moiety_unii,
        case
            when cardinality(ndc_products.active_ingredient_names) = 1
                and cardinality(ndc_products.uniis) = 1
                then ndc_products.uniis[1]
        end as ingredient_unii,
        ingredient.name as ingredient_name
    from ndc_products
    cross join lateral unnest(
        case
            when cardinality(ndc_products.active_ingredient_names) > 0
                then ndc_products.active_ingredient_names
            else array(
                    select part
                    from regexp_split_to_table(
                            ndc_products.generic_name, {{ split_names }}, 'i'
                        ) as part
                    where part <> ''
                )
        end
    ) as ingredient (name)
),

openfda_label_uniis as (
    select
        openfda_labels.set_id,
        openfda_labels.substance_names,
        openfda_labels.generic_names,
        cardinality(openfda_labels.uniis) > 0
        and cardinality(openfda_labels.uniis) = (
            select count(*)
            from unnest(openfda_labels.uniis) as listed (unii)
            where exists (
                    select from moieties
                    where moieties.lookup_kind = 'unii' and moieties.lookup_value = listed.unii
                )
        ) as is_resolved_by_unii,
        openfda_labels.uniis
    from openfda_labels
),

openfda_label_ingredients as (
    select
        'openfda_label' as record_kind,
        openfda_label_uniis.set_id as record_id,
        null as moiety_unii,
        case when openfda_label_uniis.is_resolved_by_unii then named.value end
            as ingredient_unii,
        case when not openfda_label_uniis.is_resolved_by_unii then named.value end
            as ingredient_name
    from openfda_label_uniis
    cross join lateral unnest(
        case
            when openfda_label_uniis.is_resolved_by_unii then openfda_label_uniis.uniis
            when cardinality(openfda_label_uniis.substance_names) > 0
                then openfda_label_uniis.substance_names
            else array(
                    select part
                    from unnest(openfda_label_uniis.generic_names) as generic (name)
                    cross join
                        lateral regexp_split_to_table(
                            generic.name, {{ split_names }}, 'i'
                        ) as part
                    where part <> ''
                )
        end
    ) as named (value)
),

stated as (
    select * from dailymed_ingredients
    union all
    select * from dailymed_generic_names
    union all
    select * from ndc_ingredients
    union all
    select * from openfda_label_ingredients
),

-- Each spelling normalised once (the regular expressions cost more than the rest).
spellings as (
    select distinct ingredient_name as spelling
    from stated
    where ingredient_name is not null
),

normalised_spellings as (
    select
        spelling,
        {{ normalised_drug_name('spelling') }} as normalised_name
    from spellings
),

normalised as (
    select
        stated.*,
        normalised_spellings.normalised_name
    from stated
    left join normalised_spellings on stated.ingredient_name = normalised_spellings.spelling
),

resolved as (
    select
        normalised.record_kind,
        normalised.record_id,
        coalesce(
            normalised.moiety_unii,
            by_unii.moiety_unii,
            by_name.moiety_unii,
            'name:' || normalised.normalised_name
        ) as ingredient_key,
        coalesce(
            by_unii.moiety_name,
            by_name.moiety_name,
            lower(normalised.normalised_name)
        ) as ingredient_name,
        case
            when normalised.moiety_unii is not null then 'label_moiety'
            when by_unii.moiety_unii is not null then 'ingredient_unii'
            when by_name.moiety_unii is not null then 'ingredient_name'
            else 'name_only'
        end as resolved_by
    from normalised
    left join moieties as by_unii
        on by_unii.lookup_kind = 'unii'
        and by_unii.lookup_value = coalesce(normalised.moiety_unii, normalised.ingredient_unii)
    left join moieties as by_name
        on by_name.lookup_kind = 'name'
        and by_name.lookup_value = normalised.normalised_name
    where coalesce(
            normalised.moiety_unii, normalised.ingredient_unii, normalised.normalised_name
        ) is not null
),

-- A moiety listed twice (two salts of one moiety in one product) counts once.
deduplicated as (
    select distinct on (record_kind, record_id, ingredient_key) *
    from resolved
    order by record_kind, record_id, ingredient_key, resolved_by
)

select * from deduplicated
