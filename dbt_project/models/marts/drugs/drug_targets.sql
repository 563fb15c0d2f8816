-- One row per drug and DrugCentral target activity of its ingredient(s): the protein
-- targets (mechanism of action first) of each drug of `drugs`, linked by UNII.
-- DrugCentral data, CC BY-SA 4.0 (see drugcentral_releases).
{{ config(indexes=[
    {'columns': ['drug_id', 'activity_id'], 'unique': True},
    {'columns': ['gene_symbols']},
]) }}

with

ingredients as (
    select * from {{ ref('drug_drugcentral_ingredients') }}
),

targets as (
    select * from {{ ref('drugcentral_targets') }}
),

drug_targets as (
    select
        ingredients.drug_id,
        ingredients.generic_name,
        ingredients.struct_id,
        ingredients.drugcentral_name,
        ingredients.moiety_unii,
        targets.activity_id,
        targets.target_id,
        targets.target_name,
        targets.target_class,
        targets.gene_symbols,
        targets.uniprot_accessions,
        targets.organism,
        targets.action_type,
        targets.is_mechanism_of_action,
        targets.activity_type,
        targets.activity_value,
        targets.activity_unit,
        targets.activity_relation,
        targets.activity_source,
        targets.target_development_level,
        ingredients.link_method,
        targets.db_version
    from ingredients
    inner join targets on ingredients.struct_id = targets.struct_id
)

select * from drug_targets
