-- Analysed after each build: the search function reads the planner's match estimates.
{{ config(
    post_hook=[
        "analyze {{ this }}",
        "{{ create_search_function(
            columns=[
                ('hcpcs_code', 'text'),
                ('short_description', 'text'),
                ('long_description', 'text'),
                ('action_code', 'text'),
                ('action_effective_date', 'date'),
                ('is_current', 'boolean'),
            ],
            year='action_effective_year',
            prior='action_effective_date',
        ) }}",
    ],
    indexes=[
        {'columns': ['hcpcs_code'], 'unique': True},
        {'columns': ['search_vector', 'action_effective_year'], 'type': 'gin'},
        {'columns': ['action_effective_date']},
    ],
) }}

with

landed_codes as (
    select * from {{ ref('stg_hcpcs__codes') }}
),

-- A release landed twice (a load job run again) counts once: its newest landing.
release_codes as (
    select distinct on (release, hcpcs_code) *
    from landed_codes
    order by release, hcpcs_code, loaded_at desc
),

releases_present as (
    select
        hcpcs_code,
        min(release) as first_release,
        max(release) as last_release
    from release_codes
    group by hcpcs_code
),

newest_release as (
    select max(release) as release from release_codes
),

-- Each code as the newest release holding it describes it.
latest as (
    select distinct on (hcpcs_code) *
    from release_codes
    order by hcpcs_code, release desc
),

joined as (
    select
        latest.hcpcs_code,
        latest.code_kind,
        latest.long_description,
        latest.short_description,
        latest.action_code,
        latest.added_date,
        latest.action_effective_date,
        cast(extract(year from latest.action_effective_date) as smallint)
            as action_effective_year,
        latest.termination_date,
        latest.pricing_indicators,
        latest.multiple_pricing_indicator,
        latest.coverage_code,
        latest.betos_code,
        latest.type_of_service_codes,
        latest.cross_reference_codes,
        latest.lab_certification_codes,
        latest.coverage_issues_manual_sections,
        latest.carriers_manual_sections,
        latest.statute_number,
        latest.asc_payment_group,
        latest.asc_payment_group_effective_date,
        latest.processing_note_number,
        latest.anesthesia_base_units,
        latest.description_records,
        releases_present.first_release,
        releases_present.last_release,
        releases_present.last_release = newest_release.release as is_current
    from latest
    inner join releases_present on latest.hcpcs_code = releases_present.hcpcs_code
    cross join newest_release
),

searchable as (
    select
        *,
        {{ search_vector({
            'A': ['hcpcs_code', 'long_description'],
            'B': ['short_description'],
        }) }} as search_vector
    from joined
)

select * from searchable
