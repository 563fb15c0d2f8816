-- One row per drug and DrugCentral ingredient (struct_id) it is linked to: a drug's
-- active-moiety UNII equal to a UNII DrugCentral gives the ingredient. A combination is
-- linked to the ingredient of each of its moieties (`moiety_unii` says which). The way
-- the other drug_* marts (targets, ATC codes, identifiers) reach DrugCentral.
{{ config(indexes=[
    {'columns': ['drug_id', 'struct_id'], 'unique': True},
    {'columns': ['struct_id']},
]) }}

with

drugs as (
    select
        drug_id,
        generic_name,
        is_combination,
        active_moiety_uniis
    from {{ ref('drugs') }}
),

drugcentral_uniis as (
    select
        struct_id,
        ingredient_name,
        upper(identifier) as unii,
        db_version
    from {{ ref('drugcentral_identifiers') }}
    where identifier_type = 'UNII'
),

drug_moieties as (
    select
        drugs.drug_id,
        drugs.generic_name,
        drugs.is_combination,
        upper(moiety.unii) as moiety_unii
    from drugs
    cross join lateral unnest(drugs.active_moiety_uniis) as moiety (unii)
),

linked as (
    select distinct on (drug_moieties.drug_id, drugcentral_uniis.struct_id)
        drug_moieties.drug_id,
        drug_moieties.generic_name,
        drug_moieties.is_combination,
        drugcentral_uniis.struct_id,
        drugcentral_uniis.ingredient_name as drugcentral_name,
        drug_moieties.moiety_unii,
        'unii' as link_method,
        drugcentral_uniis.db_version
    from drug_moieties
    inner join drugcentral_uniis on drug_moieties.moiety_unii = drugcentral_uniis.unii
    order by drug_moieties.drug_id, drugcentral_uniis.struct_id, drug_moieties.moiety_unii
)

select * from linked
