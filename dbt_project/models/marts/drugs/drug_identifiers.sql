-- One row per drug and external identifier DrugCentral gives its ingredient(s) (UNII,
-- RxNorm, ChEMBL, DrugBank, MeSH, ...), linked by UNII: the drug's ids in other
-- databases. DrugCentral data, CC BY-SA 4.0 (see drugcentral_releases).
{{ config(indexes=[
    {'columns': ['drug_id', 'identifier_id'], 'unique': True},
    {'columns': ['identifier_type', 'identifier']},
]) }}

with

ingredients as (
    select * from {{ ref('drug_drugcentral_ingredients') }}
),

identifiers as (
    select * from {{ ref('drugcentral_identifiers') }}
),

drug_identifiers as (
    select
        ingredients.drug_id,
        ingredients.generic_name,
        ingredients.struct_id,
        ingredients.moiety_unii,
        identifiers.identifier_id,
        identifiers.identifier_type,
        identifiers.identifier,
        identifiers.is_parent_match,
        ingredients.link_method,
        identifiers.db_version
    from ingredients
    inner join identifiers on ingredients.struct_id = identifiers.struct_id
)

select * from drug_identifiers
