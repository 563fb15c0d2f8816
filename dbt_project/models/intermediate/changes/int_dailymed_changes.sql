-- Every change the landed DailyMed label versions show: a label set seen for the first
-- time (`new`), each later landed version (`new_label_version`, with the LOINC sections
-- that changed from the version before), and a boxed warning added or removed. A version
-- landed again is no change. `marts.changes` folds the source's initial load into one row.

with

versions as (
    select
        *,
        first_landed_at = min(first_landed_at) over (partition by set_id) as is_first_landed
    from {{ ref('int_dailymed_label_versions') }}
),

version_changes as (
    select
        set_id as record_key,
        case when is_first_landed then 'new' else 'new_label_version' end as change_type,
        case
            when is_first_landed then title
            else concat_ws(
                    '; ',
                    'version ' || spl_version,
                    'added ' || nullif(array_to_string(added_section_codes, ', '), ''),
                    'removed ' || nullif(array_to_string(removed_section_codes, ', '), ''),
                    'changed ' || nullif(array_to_string(changed_section_codes, ', '), '')
                )
        end as detail,
        first_landed_at as seen_at,
        effective_date as published_date
    from versions
),

boxed_warning_changes as (
    select
        set_id as record_key,
        'boxed_warning_' || boxed_warning_change as change_type,
        'version ' || spl_version as detail,
        first_landed_at as seen_at,
        effective_date as published_date
    from versions
    where boxed_warning_change is not null and not is_first_landed
),

changes as (
    select
        'dailymed' as source_name,
        *
    from version_changes
    union all
    select
        'dailymed' as source_name,
        *
    from boxed_warning_changes
)

select * from changes
