-- What changed in ICD-10-CM from each landed release to the next one landed: codes
-- added, removed, and retitled (long description changed).

with

release_codes as (
    select * from {{ ref('int_icd10cm_release_codes') }}
),

releases as (
    select
        release_year,
        lag(release_year) over (order by release_year) as previous_release_year
    from (select distinct release_year from release_codes) as landed
),

release_pairs as (
    select * from releases
    where previous_release_year is not null
),

added_or_retitled as (
    select
        release_pairs.release_year,
        release_pairs.previous_release_year,
        current_codes.code,
        current_codes.dotted_code,
        case
            when previous_codes.code is null then 'added'
            when (
                current_codes.long_description
                is distinct from previous_codes.long_description
            ) then 'retitled'
        end as change_type,
        previous_codes.long_description as previous_long_description,
        current_codes.long_description,
        previous_codes.is_billable as was_billable,
        current_codes.is_billable
    from release_pairs
    inner join release_codes as current_codes
        on release_pairs.release_year = current_codes.release_year
    left join release_codes as previous_codes
        on release_pairs.previous_release_year = previous_codes.release_year
        and current_codes.code = previous_codes.code
),

removed as (
    select
        release_pairs.release_year,
        release_pairs.previous_release_year,
        previous_codes.code,
        previous_codes.dotted_code,
        'removed' as change_type,
        previous_codes.long_description as previous_long_description,
        cast(null as text) as long_description,
        previous_codes.is_billable as was_billable,
        cast(null as boolean) as is_billable
    from release_pairs
    inner join release_codes as previous_codes
        on release_pairs.previous_release_year = previous_codes.release_year
    left join release_codes as current_codes
        on release_pairs.release_year = current_codes.release_year
        and previous_codes.code = current_codes.code
    where current_codes.code is null
),

changes as (
    select * from added_or_retitled
    where change_type is not null
    union all
    select * from removed
),

identified as (
    select
        release_year || ':' || code as change_id,
        *
    from changes
)

select * from identified
