-- One row per current drug label: the drugs it describes and whether it is a
-- repackager's label. Small (no text), rebuilt in full every run: `drug_labels` rebuilds
-- the labels whose values here differ from what it holds.

with

labels as (
    select distinct set_id
    from {{ ref('int_drug_label_sections') }}
),

links as (
    select
        set_id,
        drug_id
    from {{ ref('int_drug_labels_linked') }}
),

products as (
    select
        set_id,
        is_repackaged
    from {{ ref('int_drug_products_unioned') }}
    where source = 'dailymed'
),

drugs_per_label as (
    select
        set_id,
        array_agg(drug_id order by drug_id) as drug_ids
    from links
    group by set_id
),

repackagers as (
    select
        set_id,
        bool_or(is_repackaged) as is_repackager
    from products
    group by set_id
),

aggregated as (
    select
        labels.set_id,
        coalesce(drugs_per_label.drug_ids, cast(array[] as text[])) as drug_ids,
        coalesce(repackagers.is_repackager, false) as is_repackager
    from labels
    left join drugs_per_label on labels.set_id = drugs_per_label.set_id
    left join repackagers on labels.set_id = repackagers.set_id
)

select * from aggregated
