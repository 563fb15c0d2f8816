-- Every change the landings of PubMed citations show, in the order medmirror landed
-- them: a citation seen for the first time (or again after its deletion: `new`), a later
-- revision (`updated`: a higher PMID version or a later DateRevised) and a deletion
-- (`withdrawn`: a DeleteCitation after a version). The same revision landed again, or an
-- older one landed late, is no change. Several versions of one citation in one landing
-- (an update file may hold versions 1 to 3 of a citation) are one change, at the newest.
-- `marts.changes` folds the source's initial load into one row.

with

landings as (
    select
        pmid,
        is_deletion_notice,
        pmid_version,
        date_revised,
        -- A revision's rank: PMID version, then DateRevised.
        array[
            pmid_version, coalesce(cast(to_char(date_revised, 'YYYYMMDD') as integer), 0)
        ] as revision,
        title,
        loaded_at
    from {{ ref('stg_pubmed__articles') }}
),

-- The newest version of each citation in each landing.
newest_per_landing as (
    select distinct on (pmid, loaded_at, is_deletion_notice) *
    from landings
    order by pmid, loaded_at, is_deletion_notice, revision desc
),

-- In landing order; an update file lists its deletions after its records.
sequenced as (
    select
        *,
        lag(is_deletion_notice) over landing_order as previous_is_deletion,
        row_number() over landing_order as landing_number
    from newest_per_landing
    window landing_order as (
        partition by pmid order by loaded_at, is_deletion_notice, pmid_version, date_revised
    )
),

versions as (
    select
        *,
        max(revision) over (
            version_order rows between unbounded preceding and 1 preceding
        ) as newest_earlier_revision
    from sequenced
    where not is_deletion_notice
    window version_order as (partition by pmid order by loaded_at, pmid_version, date_revised)
),

version_changes as (
    select
        pmid as record_key,
        case
            when landing_number = 1 or previous_is_deletion then 'new'
            else 'updated'
        end as change_type,
        case when landing_number = 1 or previous_is_deletion then title end as detail,
        loaded_at as seen_at,
        date_revised as published_date
    from versions
    where landing_number = 1
        or previous_is_deletion
        or revision > newest_earlier_revision
),

withdrawals as (
    select
        pmid as record_key,
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
        'pubmed' as source_name,
        *
    from version_changes
    union all
    select
        'pubmed' as source_name,
        *
    from withdrawals
)

select * from changes
