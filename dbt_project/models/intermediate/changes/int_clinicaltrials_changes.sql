-- Every change the landings of ClinicalTrials.gov studies show, in the order medmirror
-- landed them: a study seen for the first time (or again after its withdrawal: `new`),
-- a later version (`updated`, or `status_changed` when its overall status moved), and a
-- withdrawal (`withdrawn`: a deletion notice after a version). The same version landed
-- again, or an older one landed late, is no change. `marts.changes` folds the source's
-- initial load into one row.

with

landings as (
    select
        nct_id,
        is_deletion_notice,
        last_update_post_date,
        overall_status,
        brief_title,
        loaded_at
    from {{ ref('stg_clinicaltrials__studies') }}
),

-- In landing order; in one load a study's version comes before its deletion notice.
sequenced as (
    select
        *,
        lag(is_deletion_notice) over landing_order as previous_is_deletion,
        row_number() over landing_order as landing_number
    from landings
    window landing_order as (
        partition by nct_id order by loaded_at, is_deletion_notice, last_update_post_date
    )
),

versions as (
    select
        *,
        lag(overall_status) over version_order as previous_status,
        max(last_update_post_date) over (
            version_order rows between unbounded preceding and 1 preceding
        ) as newest_earlier_update
    from sequenced
    where not is_deletion_notice
    window version_order as (
        partition by nct_id order by loaded_at, last_update_post_date
    )
),

version_changes as (
    select
        nct_id as record_key,
        case
            when landing_number = 1 or previous_is_deletion then 'new'
            when (overall_status is distinct from previous_status) then 'status_changed'
            else 'updated'
        end as change_type,
        case
            when landing_number = 1 or previous_is_deletion then brief_title
            when (overall_status is distinct from previous_status)
                then previous_status || ' -> ' || overall_status
        end as detail,
        loaded_at as seen_at,
        last_update_post_date as published_date
    from versions
    where landing_number = 1
        or previous_is_deletion
        or last_update_post_date > newest_earlier_update
        or (newest_earlier_update is null and last_update_post_date is not null)
),

withdrawals as (
    select
        nct_id as record_key,
        'withdrawn' as change_type,
        cast(null as text) as detail,
        loaded_at as seen_at,
        cast(null as date) as published_date
    from sequenced
    where is_deletion_notice and not coalesce(previous_is_deletion, false)
        and landing_number > 1
),

changes as (
    select
        'clinicaltrials' as source_name,
        *
    from version_changes
    union all
    select
        'clinicaltrials' as source_name,
        *
    from withdrawals
)

select * from changes
