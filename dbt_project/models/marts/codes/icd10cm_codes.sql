-- Analysed after each build: the search function reads the planner's match estimates.
{{ config(
    post_hook=[
        "analyze {{ this }}",
        "{{ create_search_function(
            columns=[
                ('code', 'text'),
                ('dotted_code', 'text'),
                ('long_description', 'text'),
                ('is_billable', 'boolean'),
                ('chapter', 'text'),
                ('block', 'text'),
                ('last_release_year', 'smallint'),
            ],
            year='last_release_year',
            prior='last_release_effective_date',
        ) }}",
    ],
    indexes=[
        {'columns': ['code'], 'unique': True},
        {'columns': ['search_vector', 'last_release_year'], 'type': 'gin'},
        {'columns': ['last_release_effective_date']},
        {'columns': ['parent_code']},
    ],
) }}

with

release_codes as (
    select * from {{ ref('int_icd10cm_release_codes') }}
),

years_present as (
    select
        code,
        min(release_year) as first_release_year,
        max(release_year) as last_release_year
    from release_codes
    group by code
),

newest_release as (
    select max(release_year) as release_year from release_codes
),

-- Each code as its newest release holding it describes it.
latest as (
    select distinct on (code) *
    from release_codes
    order by code, release_year desc
),

joined as (
    select
        latest.code,
        latest.dotted_code,
        latest.is_billable,
        latest.short_description,
        latest.long_description,
        latest.chapter,
        latest.chapter_description,
        latest.section as block,
        latest.section_description as block_description,
        latest.category_code as category,
        categories.long_description as category_description,
        latest.parent_code,
        latest.path_codes,
        case
            when latest.chapter is not null
                then concat_ws(
                        ' > ',
                        'Chapter ' || latest.chapter,
                        latest.section,
                        array_to_string(latest.path_codes, ' > ')
                    )
            else array_to_string(latest.path_codes, ' > ')
        end as full_path,
        latest.notes,
        latest.seven_character,
        latest.seven_character_description,
        latest.order_number,
        cast(years_present.first_release_year as smallint) as first_release_year,
        cast(years_present.last_release_year as smallint) as last_release_year,
        -- Fiscal year N's codes take effect on October 1 of year N - 1.
        make_date(years_present.last_release_year - 1, 10, 1) as last_release_effective_date,
        years_present.last_release_year = newest_release.release_year as is_current
    from latest
    inner join years_present on latest.code = years_present.code
    cross join newest_release
    left join release_codes as categories
        on latest.release_year = categories.release_year
        and latest.category_code = categories.code
),

-- The category, block and chapter titles repeat over thousands of codes: their part of
-- the search vector is made once per combination (to_tsvector is most of the build).
contexts as (
    select
        context_key,
        {{ search_vector({
            'C': ['category_description', 'block_description'],
            'D': ['chapter_description'],
        }) }} as context_vector
    from (
        select distinct
            concat_ws('|', category_description, block_description, chapter_description)
                as context_key,
            category_description,
            block_description,
            chapter_description
        from joined
    ) as distinct_contexts
),

searchable as (
    select
        joined.*,
        {{ search_vector({
            'A': ['joined.code', 'joined.dotted_code', 'joined.long_description'],
            'B': ['joined.short_description', "joined.notes #>> '{inclusion_terms}'"],
        }) }}
        || contexts.context_vector as search_vector
    from joined
    inner join contexts
        on concat_ws(
            '|', joined.category_description, joined.block_description,
            joined.chapter_description
        ) = contexts.context_key
)

select * from searchable
