-- One row per drug and ATC code DrugCentral gives its ingredient(s), with the code's four
-- parent levels, linked by UNII. DrugCentral data, CC BY-SA 4.0 (see drugcentral_releases).
{{ config(indexes=[
    {'columns': ['drug_id', 'ingredient_atc_id'], 'unique': True},
    {'columns': ['atc_code']},
]) }}

with

ingredients as (
    select * from {{ ref('drug_drugcentral_ingredients') }}
),

atc_codes as (
    select * from {{ ref('drugcentral_atc_codes') }}
),

drug_atc_codes as (
    select
        ingredients.drug_id,
        ingredients.generic_name,
        ingredients.struct_id,
        ingredients.moiety_unii,
        atc_codes.ingredient_atc_id,
        atc_codes.atc_code,
        atc_codes.chemical_substance,
        atc_codes.level1_code,
        atc_codes.level1_name,
        atc_codes.level2_code,
        atc_codes.level2_name,
        atc_codes.level3_code,
        atc_codes.level3_name,
        atc_codes.level4_code,
        atc_codes.level4_name,
        ingredients.link_method,
        atc_codes.db_version
    from ingredients
    inner join atc_codes on ingredients.struct_id = atc_codes.struct_id
)

select * from drug_atc_codes
