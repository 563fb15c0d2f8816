-- One row per DrugCentral active ingredient (current release): structure, UNIIs and
-- RxNorm ids, ATC codes and target count, the drug marts' way into DrugCentral by UNII.
{{ config(indexes=[
    {'columns': ['struct_id'], 'unique': True},
    {'columns': ['uniis'], 'type': 'gin'},
]) }}

with

structures as (
    {{ drugcentral_current(ref('stg_drugcentral__structures'), 'struct_id') }}
),

identifiers as (
    {{ drugcentral_current(ref('stg_drugcentral__identifiers'), 'identifier_id') }}
),

pairs as (
    {{ drugcentral_current(ref('stg_drugcentral__ingredient_atc_codes'), 'ingredient_atc_id') }}
),

activities as (
    {{ drugcentral_current(ref('stg_drugcentral__activities'), 'activity_id') }}
),

ids_per_ingredient as (
    select
        struct_id,
        array_agg(distinct identifier order by identifier)
        filter (where identifier_type = 'UNII') as uniis,
        array_agg(distinct identifier order by identifier)
        filter (where identifier_type = 'RXNORM') as rxnorm_cuis
    from identifiers
    group by struct_id
),

atc_per_ingredient as (
    select
        struct_id,
        array_agg(distinct atc_code order by atc_code) as atc_codes
    from pairs
    group by struct_id
),

targets_per_ingredient as (
    select
        struct_id,
        count(distinct target_id) as target_count
    from activities
    group by struct_id
)

select
    structures.struct_id,
    structures.ingredient_name,
    structures.cas_registry_number,
    structures.inchikey,
    structures.smiles,
    structures.molecular_formula,
    structures.molecular_weight,
    coalesce(ids_per_ingredient.uniis, cast(array[] as text[])) as uniis,
    coalesce(ids_per_ingredient.rxnorm_cuis, cast(array[] as text[])) as rxnorm_cuis,
    coalesce(atc_per_ingredient.atc_codes, cast(array[] as text[])) as atc_codes,
    coalesce(targets_per_ingredient.target_count, 0) as target_count,
    structures.db_version
from structures
left join ids_per_ingredient on structures.struct_id = ids_per_ingredient.struct_id
left join atc_per_ingredient on structures.struct_id = atc_per_ingredient.struct_id
left join targets_per_ingredient on structures.struct_id = targets_per_ingredient.struct_id
