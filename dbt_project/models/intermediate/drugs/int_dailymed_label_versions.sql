-- Every landed version of every DailyMed label set (its first landing), next to the
-- version before it (by SPL version number, whatever order they landed in) and the
-- top-level sections, by LOINC code, that changed from that version: added, removed, or
-- with other text (the section's title, text and highlights, subsections included).
-- Incremental: a run rebuilds only the set ids with something landed since the previous
-- run (`int_dailymed_labels_current.last_landed_at`), from all their landed versions.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys('set_id', ref('int_dailymed_labels_current')) }}",
    indexes=[
        {'columns': ['label_version_id'], 'unique': True},
        {'columns': ['last_landed_at']},
    ],
) }}

with

changed_sets as (
    select
        set_id,
        last_landed_at
    from {{ ref('int_dailymed_labels_current') }}
    where {{ newer_than_built() }}
),

labels as (
    select * from {{ ref('stg_dailymed__labels') }}
    where {{ among_changed_keys('set_id', 'changed_sets') }}
),

sections as (
    select * from {{ ref('stg_dailymed__sections') }}
    where {{ among_changed_keys('set_id', 'changed_sets') }}
),

first_landings as (
    select distinct on (set_id, spl_version)
        set_id,
        spl_version,
        spl_id,
        effective_date,
        title,
        labeler_name,
        load_id,
        loaded_at as first_landed_at
    from labels
    order by set_id, spl_version, loaded_at, load_id
),

version_sections as (
    select
        sections.set_id,
        sections.spl_version,
        case
            when sections.section_level = 1
                then coalesce(sections.section_code, sections.section_title)
            else sections.section_path[1]
        end as section_key,
        min(case when sections.section_level = 1 then sections.section_code_name end)
            as section_name,
        md5(string_agg(
            concat_ws(
                chr(31), sections.section_title, sections.section_text,
                sections.highlight_text
            ),
            chr(30) order by sections.section_position
        )) as section_hash
    from sections
    inner join first_landings
        on first_landings.set_id = sections.set_id
        and first_landings.spl_version = sections.spl_version
        and first_landings.load_id = sections.load_id
    group by 1, 2, 3
),

ordered as (
    select
        *,
        lag(spl_version) over (partition by set_id order by spl_version)
            as previous_spl_version
    from first_landings
),

current_sections as (
    select
        ordered.set_id,
        ordered.spl_version,
        version_sections.section_key,
        version_sections.section_name,
        version_sections.section_hash
    from ordered
    inner join version_sections
        on version_sections.set_id = ordered.set_id
        and version_sections.spl_version = ordered.spl_version
    where ordered.previous_spl_version is not null
),

previous_sections as (
    select
        ordered.set_id,
        ordered.spl_version,
        version_sections.section_key,
        version_sections.section_name,
        version_sections.section_hash
    from ordered
    inner join version_sections
        on version_sections.set_id = ordered.set_id
        and version_sections.spl_version = ordered.previous_spl_version
),

compared as (
    select
        coalesce(current_sections.set_id, previous_sections.set_id) as set_id,
        coalesce(current_sections.spl_version, previous_sections.spl_version) as spl_version,
        coalesce(current_sections.section_key, previous_sections.section_key) as section_key,
        coalesce(current_sections.section_name, previous_sections.section_name)
            as section_name,
        case
            when previous_sections.section_key is null then 'added'
            when current_sections.section_key is null then 'removed'
            when current_sections.section_hash <> previous_sections.section_hash
                then 'changed'
        end as change
    from current_sections
    full join previous_sections
        on previous_sections.set_id = current_sections.set_id
        and previous_sections.spl_version = current_sections.spl_version
        and previous_sections.section_key = current_sections.section_key
),

changes as (
    select
        set_id,
        spl_version,
        array_agg(section_key order by section_key) filter (where change = 'added')
            as added_section_codes,
        array_agg(section_key order by section_key) filter (where change = 'removed')
            as removed_section_codes,
        array_agg(section_key order by section_key) filter (where change = 'changed')
            as changed_section_codes,
        array_agg(distinct section_name) filter (where change is not null)
            as changed_section_names
    from compared
    group by set_id, spl_version
),

boxed_warnings as (
    select
        set_id,
        spl_version,
        bool_or(section_key = '34066-1') as has_boxed_warning
    from version_sections
    group by set_id, spl_version
),

versions as (
    select
        ordered.set_id || '-' || ordered.spl_version as label_version_id,
        ordered.set_id,
        ordered.spl_version,
        ordered.spl_id,
        ordered.effective_date,
        ordered.title,
        ordered.labeler_name,
        ordered.first_landed_at,
        ordered.previous_spl_version,
        coalesce(boxed_warnings.has_boxed_warning, false) as has_boxed_warning,
        case
            when ordered.previous_spl_version is null then null
            when '34066-1' = any(changes.added_section_codes) then 'added'
            when '34066-1' = any(changes.removed_section_codes) then 'removed'
        end as boxed_warning_change,
        coalesce(changes.added_section_codes, '{}') as added_section_codes,
        coalesce(changes.removed_section_codes, '{}') as removed_section_codes,
        coalesce(changes.changed_section_codes, '{}') as changed_section_codes,
        coalesce(changes.changed_section_names, '{}') as changed_section_names,
        changed_sets.last_landed_at
    from ordered
    inner join changed_sets on ordered.set_id = changed_sets.set_id
    left join changes
        on changes.set_id = ordered.set_id
        and changes.spl_version = ordered.spl_version
    left join boxed_warnings
        on boxed_warnings.set_id = ordered.set_id
        and boxed_warnings.spl_version = ordered.spl_version
)

select * from versions
