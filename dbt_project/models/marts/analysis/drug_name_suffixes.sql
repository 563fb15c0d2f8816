-- One row per name type and ending: the last three or four letters of ingredient and
-- brand names (-mab, -statin's "atin"), with how many names and drugs end so and a few
-- of them. The common endings of a name list are its first rows by `name_count`.

with

names as (
    select * from {{ ref('drug_names') }}
),

endings as (
    select
        name_type,
        3 as suffix_length,
        suffix_3 as suffix,
        name,
        drug_ids
    from names
    where suffix_3 is not null
    union all
    select
        name_type,
        4 as suffix_length,
        suffix_4 as suffix,
        name,
        drug_ids
    from names
    where suffix_4 is not null
),

drug_endings as (
    select distinct
        endings.name_type,
        endings.suffix,
        drug.drug_id
    from endings
    cross join lateral unnest(endings.drug_ids) as drug (drug_id)
),

drug_counts as (
    select
        name_type,
        suffix,
        count(*) as drug_count
    from drug_endings
    group by name_type, suffix
),

final as (
    select
        endings.name_type || ':' || endings.suffix as drug_name_suffix_id,
        endings.name_type,
        endings.suffix,
        endings.suffix_length,
        count(*) as name_count,
        drug_counts.drug_count,
        (array_agg(endings.name order by endings.name))[1:5] as example_names
    from endings
    inner join drug_counts
        on endings.name_type = drug_counts.name_type
        and endings.suffix = drug_counts.suffix
    group by endings.name_type, endings.suffix, endings.suffix_length, drug_counts.drug_count
)

select * from final
