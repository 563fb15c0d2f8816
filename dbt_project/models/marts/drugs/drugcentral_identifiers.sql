-- One row per external identifier DrugCentral gives an ingredient (UNII, RXNORM,
-- ChEMBL_ID, DRUGBANK_ID, MESH_*, ...), current release. The drug marts join DrugCentral
-- by UNII: `identifier_type = 'UNII' and identifier = <unii>` gives the `struct_id` that
-- keys drugcentral_targets and drugcentral_atc_codes.
{{ config(indexes=[
    {'columns': ['identifier_id'], 'unique': True},
    {'columns': ['identifier_type', 'identifier']},
    {'columns': ['struct_id']},
]) }}

with

identifiers as (
    {{ drugcentral_current(ref('stg_drugcentral__identifiers'), 'identifier_id') }}
),

structures as (
    {{ drugcentral_current(ref('stg_drugcentral__structures'), 'struct_id') }}
)

select
    identifiers.identifier_id,
    identifiers.struct_id,
    structures.ingredient_name,
    identifiers.identifier_type,
    identifiers.identifier,
    identifiers.is_parent_match,
    identifiers.db_version
from identifiers
left join structures on identifiers.struct_id = structures.struct_id
