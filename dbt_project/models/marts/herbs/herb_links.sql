-- One row per NCCIH herb and UNII (and drug) its names point at. NCCIH's "Herbs at a
-- Glance" pages name no UNII (only common and Latin names), so herbs are linked by name:
-- each of the herb's names, normalised by `drug_name_set` as every drug link is, equal to
--   - a name of a drug of `drugs` (the drug dictionary, `int_drug_name_dictionary`; a
--     name that could mean several drugs is never used): the drug and its UNII key, or
--   - the substance name of a PubMed chemical whose registry number is a UNII.
-- `link_method` says which name matched (`herb_name`, `common_name`, `latin_name`),
-- `linked_via` where the UNII came from.
{{ config(indexes=[
    {'columns': ['herb_link_id'], 'unique': True},
    {'columns': ['slug']},
    {'columns': ['unii']},
]) }}

with

herbs as (
    select
        slug,
        herb_name,
        common_names,
        latin_names
    from {{ ref('herbs') }}
),

dictionary as (
    select
        drug_id,
        ingredient_key,
        lookup_value
    from {{ ref('int_drug_name_dictionary') }}
    where lookup_kind = 'name' and not is_ambiguous
),

drugs as (
    select
        drug_id,
        generic_name
    from {{ ref('drugs') }}
),

chemicals as (
    select
        substance_name,
        registry_number,
        pmid
    from {{ ref('article_chemicals') }}
    where registry_number_type = 'UNII'
),

herb_names as (
    select
        slug,
        herb_name,
        herb_name as matched_name,
        'herb_name' as link_method
    from herbs
    union all
    select
        herbs.slug,
        herbs.herb_name,
        name.value,
        'common_name'
    from herbs
    cross join lateral unnest(herbs.common_names) as name (value)
    union all
    select
        herbs.slug,
        herbs.herb_name,
        name.value,
        'latin_name'
    from herbs
    cross join lateral unnest(herbs.latin_names) as name (value)
),

normalised_herb_names as (
    select
        *,
        {{ drug_name_set('matched_name') }} as lookup_value
    from herb_names
),

chemical_names as (
    select
        {{ drug_name_set('substance_name') }} as lookup_value,
        upper(registry_number) as unii,
        min(substance_name) as substance_name,
        count(distinct pmid) as article_count
    from chemicals
    group by 1, 2
),

drug_links as (
    select
        names.slug,
        names.herb_name,
        names.matched_name,
        names.link_method,
        case
            when dictionary.ingredient_key !~ '^name:' then dictionary.ingredient_key
        end as unii,
        dictionary.drug_id,
        drugs.generic_name,
        'drug_dictionary' as linked_via,
        cast(null as bigint) as article_count
    from normalised_herb_names as names
    inner join dictionary on names.lookup_value = dictionary.lookup_value
    left join drugs on dictionary.drug_id = drugs.drug_id
),

chemical_links as (
    select
        names.slug,
        names.herb_name,
        names.matched_name,
        names.link_method,
        chemical_names.unii,
        cast(null as text) as drug_id,
        cast(null as text) as generic_name,
        'pubmed_chemical' as linked_via,
        chemical_names.article_count
    from normalised_herb_names as names
    inner join chemical_names on names.lookup_value = chemical_names.lookup_value
),

unioned as (
    select * from drug_links
    union all
    select * from chemical_links
),

-- One row per herb, UNII or drug, and origin: the first matching name kind wins.
deduplicated as (
    select distinct on (slug, linked_via, coalesce(drug_id, unii))
        md5(slug || '|' || linked_via || '|' || coalesce(drug_id, unii)) as herb_link_id,
        *
    from unioned
    order by
        slug,
        linked_via,
        coalesce(drug_id, unii),
        array_position(array['herb_name', 'common_name', 'latin_name'], link_method),
        matched_name
)

select * from deduplicated
