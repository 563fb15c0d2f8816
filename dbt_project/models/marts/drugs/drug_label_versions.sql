-- Every landed version of every DailyMed label set (raw keeps them all), with the
-- top-level sections, by LOINC code, that changed from the version before and whether a
-- boxed warning was added or removed.

{{ config(indexes=[
    {'columns': ['label_version_id'], 'unique': True},
    {'columns': ['set_id', 'spl_version']},
]) }}

with

versions as (
    select * from {{ ref('int_dailymed_label_versions') }}
),

current_labels as (
    select
        set_id,
        spl_version as current_spl_version
    from {{ ref('int_dailymed_labels_current') }}
    where not is_deleted
),

label_versions as (
    select
        versions.*,
        versions.spl_version = current_labels.current_spl_version as is_current_version
    from versions
    left join current_labels
        on current_labels.set_id = versions.set_id
)

select * from label_versions
