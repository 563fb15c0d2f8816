-- One row per code per landed ICD-10-CM release, from its order file and tabular XML.
-- The order file, when the release has one, decides which codes there are, their
-- billable flag and their titles; the tabular XML adds chapter, section, parent and
-- notes. A release with only one of the files is complete on its own: from the XML,
-- codes and hierarchy; from the order file, codes and titles, the parent being the
-- longest code of the same release that the code starts with.

-- `recursive` lets `ancestries` follow the parent chain.
with recursive

order_entries as (
    select * from {{ ref('stg_icd10cm__order_codes') }}
),

tabular_entries as (
    select * from {{ ref('stg_icd10cm__tabular_codes') }}
),

-- A file landed twice (a load job run again) counts once: its newest landing.
order_codes as (
    select distinct on (release_year, code) *
    from order_entries
    order by release_year, code, loaded_at desc
),

tabular_codes as (
    select distinct on (release_year, code) *
    from tabular_entries
    order by release_year, code, loaded_at desc
),

order_releases as (
    select distinct release_year from order_codes
),

release_codes as (
    select
        coalesce(order_codes.code, tabular_codes.code) as code,
        coalesce(order_codes.release_year, tabular_codes.release_year) as release_year,
        order_codes.order_number,
        coalesce(order_codes.is_billable, tabular_codes.is_billable) as is_billable,
        order_codes.short_description,
        coalesce(order_codes.long_description, tabular_codes.description)
            as long_description,
        tabular_codes.description as tabular_description,
        tabular_codes.chapter,
        tabular_codes.chapter_description,
        tabular_codes.section,
        tabular_codes.section_description,
        tabular_codes.parent_code as tabular_parent_code,
        coalesce(tabular_codes.notes, '{}'::jsonb) as notes,
        tabular_codes.seven_character,
        tabular_codes.seven_character_description,
        order_codes.code is not null as is_in_order_file,
        tabular_codes.code is not null as is_in_tabular_file
    from order_codes
    full outer join tabular_codes
        on order_codes.release_year = tabular_codes.release_year
        and order_codes.code = tabular_codes.code
    -- With an order file, its codes are the release's (the XML's 7th-character
    -- expansion adds a few it does not list as valid, e.g. S06 deaths with D or S).
    where order_codes.code is not null
        or tabular_codes.release_year not in (select release_year from order_releases)
),

-- The proper prefixes of each code (three characters at least), to find the parent of
-- a code the tabular XML does not place.
prefixes as (
    select
        release_codes.release_year,
        release_codes.code,
        left(release_codes.code, prefix_length) as prefix,
        prefix_length
    from release_codes
    cross join lateral generate_series(3, length(release_codes.code) - 1) as prefix_length
    where release_codes.tabular_parent_code is null
),

prefix_parents as (
    select distinct on (prefixes.release_year, prefixes.code)
        prefixes.release_year,
        prefixes.code,
        prefixes.prefix as parent_code
    from prefixes
    inner join release_codes as parents
        on prefixes.release_year = parents.release_year
        and prefixes.prefix = parents.code
    order by prefixes.release_year, prefixes.code, prefixes.prefix_length desc
),

with_parents as (
    select
        release_codes.*,
        coalesce(release_codes.tabular_parent_code, prefix_parents.parent_code)
            as parent_code,
        case
            when length(release_codes.code) > 3
                then left(release_codes.code, 3) || '.' || substr(release_codes.code, 4)
            else release_codes.code
        end as dotted_code,
        left(release_codes.code, 3) as category_code
    from release_codes
    left join prefix_parents
        on release_codes.release_year = prefix_parents.release_year
        and release_codes.code = prefix_parents.code
),

-- Each code's dotted ancestors, from its category down to itself, within its release.
ancestries (release_year, code, path_codes) as (
    select
        release_year,
        code,
        array[dotted_code]
    from with_parents
    where parent_code is null
    union all
    select
        children.release_year,
        children.code,
        ancestries.path_codes || children.dotted_code
    from ancestries
    inner join with_parents as children
        on ancestries.release_year = children.release_year
        and ancestries.code = children.parent_code
),

with_paths as (
    select
        with_parents.*,
        ancestries.path_codes
    from with_parents
    left join ancestries
        on with_parents.release_year = ancestries.release_year
        and with_parents.code = ancestries.code
)

select * from with_paths
