-- One row per drug and brand name it is sold or labelled under: the brand of each of its
-- formulations (as merged in `int_drug_formulations_merged`) and the brand names of its
-- linked openFDA labels, as written. `is_generic_name`: every formulation giving this
-- brand gives it as its own generic name too ("Atorvastatin Calcium" sold as
-- "atorvastatin calcium"), so it names no brand. Read by the drug names of the `drugs`
-- mart (`int_drugs_named`) and by the link dictionary (`int_drug_name_dictionary`).

with

formulations as (
    select
        drug_id,
        brand_name,
        generic_name
    from {{ ref('int_drug_formulations_merged') }}
),

links as (
    select * from {{ ref('int_drug_labels_linked') }}
),

openfda_labels as (
    select
        set_id,
        brand_names
    from {{ ref('int_openfda_labels_current') }}
    where not is_deleted
),

candidates as (
    select
        drug_id,
        brand_name,
        (
            {{ normalised_drug_name('brand_name') }}
            is not distinct from {{ normalised_drug_name('generic_name') }}
        ) as is_generic_name,
        'formulation' as named_by
    from formulations
    where drug_id is not null and brand_name is not null
    union all
    select
        links.drug_id,
        brand.name,
        {{ normalised_drug_name('brand.name') }} is null,
        'openfda_label'
    from links
    inner join openfda_labels on links.set_id = openfda_labels.set_id
    cross join lateral unnest(openfda_labels.brand_names) as brand (name)
    where brand.name is not null
),

brand_names as (
    select
        drug_id,
        brand_name,
        bool_and(is_generic_name) as is_generic_name,
        array_agg(distinct named_by order by named_by) as named_by
    from candidates
    group by drug_id, brand_name
)

select * from brand_names
