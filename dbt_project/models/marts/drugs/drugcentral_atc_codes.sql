-- One row per ingredient and ATC code (current DrugCentral release), with the code's four
-- parent levels.
{{ config(indexes=[
    {'columns': ['ingredient_atc_id'], 'unique': True},
    {'columns': ['struct_id']},
    {'columns': ['atc_code']},
]) }}

with

pairs as (
    {{ drugcentral_current(ref('stg_drugcentral__ingredient_atc_codes'), 'ingredient_atc_id') }}
),

codes as (
    {{ drugcentral_current(ref('stg_drugcentral__atc_codes'), 'atc_code') }}
),

structures as (
    {{ drugcentral_current(ref('stg_drugcentral__structures'), 'struct_id') }}
)

select
    pairs.ingredient_atc_id,
    pairs.struct_id,
    structures.ingredient_name,
    pairs.atc_code,
    codes.chemical_substance,
    codes.level1_code,
    codes.level1_name,
    codes.level2_code,
    codes.level2_name,
    codes.level3_code,
    codes.level3_name,
    codes.level4_code,
    codes.level4_name,
    pairs.db_version
from pairs
left join codes on pairs.atc_code = codes.atc_code
left join structures on pairs.struct_id = structures.struct_id
