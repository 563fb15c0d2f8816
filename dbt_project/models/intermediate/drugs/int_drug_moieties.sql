-- The active-moiety dictionary the drug key is resolved with: every UNII and normalised
-- name the landed labels tie to exactly one active moiety UNII. DailyMed products name
-- each active ingredient (atorvastatin calcium trihydrate, 48A5M73Z4Q) with its active
-- moiety (atorvastatin, A0JWA85V8F); FDA's pharmacologic-class indexing SPLs name the
-- moieties they index. A UNII or name tied to two moieties is left out (ambiguous).

with

products as (
    select
        set_id,
        spl_version,
        load_id,
        active_ingredients
    from {{ ref('int_dailymed_product_versions') }}
),

indexed_substances as (
    select
        substance_unii,
        substance_name
    from {{ ref('stg_dailymed__pharmacologic_classes') }}
),

ingredients as (
    select
        ingredient.item ->> 'unii' as ingredient_unii,
        ingredient.item ->> 'name' as ingredient_name,
        moiety.item ->> 'unii' as moiety_unii,
        moiety.item ->> 'name' as moiety_name,
        jsonb_array_length(
            {{ json_array("ingredient.item -> 'active_moieties'") }}
        ) as moiety_count
    from products
    cross join
        lateral jsonb_array_elements(
            {{ json_array('products.active_ingredients') }}
        ) as ingredient (item)
    cross join
        lateral jsonb_array_elements(
            {{ json_array("ingredient.item -> 'active_moieties'") }}
        ) as moiety (item)
    where moiety.item ->> 'unii' is not null
),

-- Each spelling normalised once (the regular expressions are most of this model's time;
-- 37,000 ingredient rows at 20,000 labels hold a few thousand spellings).
spellings as (
    select ingredient_name as spelling from ingredients
    union
    select moiety_name from ingredients
    union
    select substance_name from indexed_substances
),

normalised_spellings as (
    select
        spelling,
        {{ normalised_drug_name('spelling') }} as normalised_name
    from spellings
    where spelling is not null
),

lookups as (
    select
        'unii' as lookup_kind,
        moiety_unii as lookup_value,
        moiety_unii,
        moiety_name
    from ingredients
    union all
    select
        'unii',
        ingredient_unii,
        moiety_unii,
        moiety_name
    from ingredients
    where ingredient_unii is not null and moiety_count = 1
    union all
    select
        'name',
        moiety_spellings.normalised_name,
        ingredients.moiety_unii,
        ingredients.moiety_name
    from ingredients
    left join normalised_spellings as moiety_spellings
        on ingredients.moiety_name = moiety_spellings.spelling
    union all
    select
        'name',
        ingredient_spellings.normalised_name,
        ingredients.moiety_unii,
        ingredients.moiety_name
    from ingredients
    left join normalised_spellings as ingredient_spellings
        on ingredients.ingredient_name = ingredient_spellings.spelling
    where ingredients.moiety_count = 1
    union all
    select
        'unii',
        substance_unii as lookup_value,
        substance_unii as moiety_unii,
        substance_name
    from indexed_substances
    union all
    select
        'name',
        substance_spellings.normalised_name,
        indexed_substances.substance_unii,
        indexed_substances.substance_name
    from indexed_substances
    left join normalised_spellings as substance_spellings
        on indexed_substances.substance_name = substance_spellings.spelling
),

unambiguous as (
    select
        lookup_kind,
        lookup_value,
        min(moiety_unii) as moiety_unii
    from lookups
    where lookup_value is not null and moiety_unii is not null
    group by lookup_kind, lookup_value
    having count(distinct moiety_unii) = 1
),

-- One display name per moiety: the most frequent spelling, lower case.
moiety_names as (
    select distinct on (moiety_unii)
        moiety_unii,
        lower(moiety_name) as moiety_name
    from lookups
    where moiety_name is not null and moiety_unii is not null
    group by moiety_unii, lower(moiety_name)
    order by moiety_unii, count(*) desc, lower(moiety_name)
),

named as (
    select
        unambiguous.lookup_kind,
        unambiguous.lookup_value,
        unambiguous.moiety_unii,
        moiety_names.moiety_name
    from unambiguous
    left join moiety_names on unambiguous.moiety_unii = moiety_names.moiety_unii
)

select * from named
