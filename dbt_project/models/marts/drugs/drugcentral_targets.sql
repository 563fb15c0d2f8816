-- One row per bioactivity / mechanism-of-action target DrugCentral lists for an
-- ingredient (current release), with the ingredient's UNIIs for the drug marts' join.
{{ config(indexes=[
    {'columns': ['activity_id'], 'unique': True},
    {'columns': ['struct_id']},
    {'columns': ['uniis'], 'type': 'gin'},
]) }}

with

activities as (
    {{ drugcentral_current(ref('stg_drugcentral__activities'), 'activity_id') }}
),

structures as (
    {{ drugcentral_current(ref('stg_drugcentral__structures'), 'struct_id') }}
),

identifiers as (
    {{ drugcentral_current(ref('stg_drugcentral__identifiers'), 'identifier_id') }}
),

uniis as (
    select
        struct_id,
        array_agg(distinct identifier order by identifier) as uniis
    from identifiers
    where identifier_type = 'UNII'
    group by struct_id
)

select
    activities.activity_id,
    activities.struct_id,
    structures.ingredient_name,
    coalesce(uniis.uniis, cast(array[] as text[])) as uniis,
    activities.target_id,
    activities.target_name,
    activities.target_class,
    activities.gene_symbols,
    activities.uniprot_accessions,
    activities.organism,
    activities.action_type,
    activities.is_mechanism_of_action,
    activities.activity_type,
    activities.activity_value,
    activities.activity_unit,
    activities.activity_relation,
    activities.activity_source,
    activities.target_development_level,
    activities.db_version
from activities
left join structures on activities.struct_id = structures.struct_id
left join uniis on activities.struct_id = uniis.struct_id
