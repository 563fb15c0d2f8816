-- One row per class of each substance of the current version of each pharmacologic-class
-- indexing SPL (FDA's EPC, MoA, PE and chemical-structure indexing in DailyMed): the rows
-- of `stg_dailymed__pharmacologic_classes` whose label version `int_dailymed_labels_current`
-- keeps.

with

labels as (
    select
        set_id,
        spl_version,
        load_id
    from {{ ref('int_dailymed_labels_current') }}
    where not is_deleted
),

indexing as (
    select
        set_id,
        spl_version,
        load_id,
        substance_unii,
        class_code,
        class_name,
        class_type
    from {{ ref('stg_dailymed__pharmacologic_classes') }}
),

current_indexing as (
    select
        indexing.set_id,
        indexing.spl_version,
        indexing.substance_unii,
        indexing.class_code,
        indexing.class_name,
        indexing.class_type
    from indexing
    inner join labels using (set_id, spl_version, load_id)
)

select * from current_indexing
