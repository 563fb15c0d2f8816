-- What changed, one row per change: studies, citations and label sets new, updated,
-- status changed or withdrawn; new label versions with the LOINC sections that changed
-- and boxed warnings added or removed; ICD-10-CM releases and codes added, removed or
-- retitled; FAERS drug-reaction pairs newly over the signal threshold. `seen_at` is when
-- medmirror landed it, `published_date` the publisher's date.
-- A source's initial load is one row (`initial_load`, with its count): every change seen
-- up to the end of the source's first successful refresh with rows in `ops.refresh_runs`,
-- or its first landing when no refresh of it is recorded (rows landed some other way).

-- The change types that bring a record into the feed (counted by an initial load).
{% set first_seen = "'new', 'new_release', 'signal_over_threshold'" %}

{{ config(indexes=[
    {'columns': ['change_id'], 'unique': True},
    {'columns': ['seen_at']},
    {'columns': ['source', 'seen_at']},
]) }}

with

clinicaltrials_changes as (
    select * from {{ ref('int_clinicaltrials_changes') }}
),

pubmed_changes as (
    select * from {{ ref('int_pubmed_changes') }}
),

dailymed_changes as (
    select * from {{ ref('int_dailymed_changes') }}
),

icd10cm_releases as (
    select * from {{ ref('int_icd10cm_release_landings') }}
),

icd10cm_code_changes as (
    select * from {{ ref('icd10cm_code_changes') }}
),

signals as (
    select * from {{ ref('drug_reaction_signals_by_quarter') }}
    where is_first_signal_quarter
),

refresh_runs as (
    select * from {{ ref('stg_ops__refresh_runs') }}
),

-- An ICD-10-CM release's fiscal year starts on 1 October of the year before.
icd10cm_changes as (
    select
        'icd10cm' as source_name,
        'release ' || release_year as record_key,
        'new_release' as change_type,
        code_count || ' codes' as detail,
        first_landed_at as seen_at,
        make_date(release_year - 1, 10, 1) as published_date
    from icd10cm_releases
    union all
    select
        'icd10cm' as source_name,
        icd10cm_code_changes.dotted_code as record_key,
        'code_' || icd10cm_code_changes.change_type as change_type,
        case icd10cm_code_changes.change_type
            when 'added' then icd10cm_code_changes.long_description
            when 'removed' then icd10cm_code_changes.previous_long_description
            else icd10cm_code_changes.previous_long_description || ' -> '
                || icd10cm_code_changes.long_description
        end as detail,
        icd10cm_releases.first_landed_at as seen_at,
        make_date(icd10cm_code_changes.release_year - 1, 10, 1) as published_date
    from icd10cm_code_changes
    inner join icd10cm_releases
        on icd10cm_releases.release_year = icd10cm_code_changes.release_year
),

faers_changes as (
    select
        'faers' as source_name,
        coalesce(drug_id, ingredient_name) || ' / ' || preferred_term as record_key,
        'signal_over_threshold' as change_type,
        concat_ws(
            ', ',
            'PRR ' || round(prr, 2),
            'lower 95% ' || round(prr_lower_95, 2),
            'ROR lower 95% ' || round(ror_lower_95, 2),
            a || ' cases'
        ) as detail,
        quarter_landed_at as seen_at,
        -- The quarter's last day.
        cast(
            to_date(
                left(quarter, 4) || '-' || (cast(right(quarter, 1) as integer) * 3)
                || '-01', 'YYYY-MM-DD'
            )
            + interval '1 month' - interval '1 day' as date
        ) as published_date
    from signals
),

candidates as (
    select * from clinicaltrials_changes
    union all
    select * from pubmed_changes
    union all
    select * from dailymed_changes
    union all
    select * from icd10cm_changes
    union all
    select * from faers_changes
),

first_refreshes as (
    select
        source_name,
        min(finished_at) as finished_at
    from refresh_runs
    where is_succeeded and rows_landed > 0
    group by source_name
),

cutoffs as (
    select
        candidates.source_name,
        coalesce(max(first_refreshes.finished_at), min(candidates.seen_at)) as initial_until
    from candidates
    left join first_refreshes on first_refreshes.source_name = candidates.source_name
    group by candidates.source_name
),

marked as (
    select
        candidates.*,
        candidates.seen_at <= cutoffs.initial_until as is_initial
    from candidates
    inner join cutoffs on cutoffs.source_name = candidates.source_name
),

initial_loads as (
    select
        source_name as source,
        cast(null as text) as record_key,
        'initial_load' as change_type,
        count(distinct record_key) filter (where change_type in ({{ first_seen }}))
        || ' ' || case source_name
            when 'clinicaltrials' then 'studies'
            when 'pubmed' then 'citations'
            when 'dailymed' then 'label sets'
            when 'icd10cm' then 'releases'
            when 'faers' then 'signals'
        end as detail,
        count(distinct record_key) filter (where change_type in ({{ first_seen }}))
            as record_count,
        max(seen_at) as seen_at,
        max(published_date) as published_date
    from marked
    where is_initial
    group by source_name
),

later_changes as (
    select
        source_name as source,
        record_key,
        change_type,
        detail,
        1 as record_count,
        seen_at,
        published_date
    from marked
    where not is_initial
),

all_changes as (
    select * from initial_loads
    union all
    select * from later_changes
),

final as (
    select
        md5(concat_ws('|', source, record_key, change_type, seen_at)) as change_id,
        *
    from all_changes
)

select * from final
