-- sqlfluff cannot indent the body of a Jinja loop here: layout left to the author.
-- noqa: disable=LT02
-- One row per current drug label (set id), DailyMed and openFDA merged: for each field
-- DailyMed's text wins and openFDA's fills what DailyMed lacks. Every DailyMed section
-- is kept in `sections`; the special-population fields are parsed here once and the
-- `drugs` mart picks from them.
--
-- Incremental by set id. The pre-hooks delete the labels with anything landed since the
-- previous run in DailyMed or openFDA (withdrawn ones included) and those whose drugs
-- or repackager flag changed without a landing (`int_drug_label_drugs_aggregated`: the
-- drugs consolidated anew); a run then builds every current label the table does not
-- hold, reading only those labels' documents.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook=[
        "{{ delete_changed_keys(
            'set_id',
            [ref('int_dailymed_labels_current'), ref('int_openfda_labels_current')],
        ) }}",
        "{{ delete_changed_values(
            'set_id',
            ref('int_drug_label_drugs_aggregated'),
            ['drug_ids', 'is_repackager'],
        ) }}",
    ],
    indexes=[
        {'columns': ['set_id'], 'unique': True},
        {'columns': ['drug_ids'], 'type': 'gin'},
        {'columns': ['last_landed_at']},
    ],
) }}

{%- set fields = [
    'boxed_warning', 'indications', 'dosage_and_administration', 'contraindications',
    'warnings', 'adverse_reactions', 'drug_interactions', 'mechanism_of_action',
    'pregnancy', 'lactation', 'reproductive_potential', 'pediatric_use', 'geriatric_use',
] %}
{%- set age_unit = "(years?|months?|weeks?|days?)" %}

with

-- The labels to build: all in a full build, else those the table does not hold.
label_fields as (
    select * from {{ ref('int_drug_label_sections') }}
    {%- if is_incremental() %}
    where set_id not in (select built.set_id from {{ this }} as built)
    {%- endif %}
),

label_drugs as (
    select * from {{ ref('int_drug_label_drugs_aggregated') }}
),

labels as (
    select
        set_id,
        spl_version,
        load_id
    from {{ ref('int_dailymed_labels_current') }}
    where not is_deleted and {{ among_changed_keys('set_id', 'label_fields') }}
),

sections as (
    select
        set_id,
        spl_version,
        load_id,
        section_position,
        section_code,
        section_code_name,
        section_title,
        section_level,
        parent_section_code,
        section_text
    from {{ ref('stg_dailymed__sections') }}
    where {{ among_changed_keys('set_id', 'label_fields') }}
),

label_sections as (
    select
        sections.set_id,
        jsonb_agg(
            jsonb_build_object(
                'position', sections.section_position,
                'code', sections.section_code,
                'code_name', sections.section_code_name,
                'title', sections.section_title,
                'level', sections.section_level,
                'parent_code', sections.parent_section_code,
                'text', sections.section_text
            )
            order by sections.section_position
        ) as sections
    from sections
    inner join labels using (set_id, spl_version, load_id)
    group by sections.set_id
),

merged as (
    select
        set_id,
        (array_agg(spl_id order by source))[1] as spl_id,
        (array_agg(version_number order by source))[1] as version_number,
        (array_agg(effective_date order by source))[1] as effective_date,
        (array_agg(title order by source) filter (where title is not null))[1] as title,
        (array_agg(labeler_name order by source) filter (where labeler_name is not null))[1]
            as labeler_name,
        (array_agg(document_type_name order by source)
            filter (where document_type_name is not null))[1] as document_type_name,
        array_agg(source order by source) as sources,
        max(last_landed_at) as last_landed_at,
        {%- for field in fields %}
        (array_agg({{ field }} order by source) filter (where {{ field }} is not null))[1]
            as {{ field }}{{ ',' if not loop.last }}
        {%- endfor %}
    from label_fields
    group by set_id
),

-- The youngest age a pediatric-use text states a range or lower bound for: "10-17 years
-- of age", "aged 6 to 17 years", "2 years and older", in years.
stated_ages as (
    select
        merged.set_id,
        min(
            cast(age.match[2] as numeric)
            * case left(lower(coalesce(age.match[3], age.match[4])), 1)
                when 'y' then 1
                when 'm' then 1 / 12.0
                when 'w' then 7 / 365.25
                when 'd' then 1 / 365.25
            end
        ) as youngest_age_years
    from merged
    cross join lateral regexp_matches(
        merged.pediatric_use,
        '(aged?s?\s+)?(\d+(?:\.\d+)?)\s*{{ age_unit }}?(?:\s+of\s+age)?\s*(?:-|–|—|to|through)\s*'
        || '\d+(?:\.\d+)?\s*{{ age_unit }}(\s+of\s+age|\s+old)?',
        'gi'
    ) as age (match)
    where age.match[1] is not null or age.match[5] is not null
    group by merged.set_id
    union all
    select
        merged.set_id,
        min(
            cast(age.match[1] as numeric)
            * case left(lower(age.match[2]), 1)
                when 'y' then 1
                when 'm' then 1 / 12.0
                when 'w' then 7 / 365.25
                when 'd' then 1 / 365.25
            end
        )
    from merged
    cross join lateral regexp_matches(
        merged.pediatric_use,
        '(\d+(?:\.\d+)?)\s*{{ age_unit }}(?:\s+of\s+age|\s+old)?\s+(?:and|or)\s+(?:older|above|over)',
        'gi'
    ) as age (match)
    group by merged.set_id
),

youngest_ages as (
    select
        set_id,
        round(min(youngest_age_years), 2) as pediatric_youngest_age_years
    from stated_ages
    group by set_id
),

final as (
    select
        merged.set_id,
        merged.spl_id,
        merged.version_number,
        merged.effective_date,
        merged.title,
        merged.labeler_name,
        merged.document_type_name,
        merged.sources,
        label_drugs.is_repackager,
        label_drugs.drug_ids,
        {%- for field in fields %}
        merged.{{ field }},
        {%- endfor %}
        upper((regexp_match(
            merged.pregnancy,
            '(pregnancy\s+category|^\s*category)\s*:?\s*([abcdx])\M',
            'in'
        ))[2]) as pregnancy_category,
        youngest_ages.pediatric_youngest_age_years,
        merged.pregnancy is not null as has_pregnancy,
        merged.lactation is not null as has_lactation,
        merged.reproductive_potential is not null as has_reproductive_potential,
        merged.pediatric_use is not null as has_pediatric_use,
        merged.geriatric_use is not null as has_geriatric_use,
        label_sections.sections,
        coalesce(jsonb_array_length(label_sections.sections), 0) as section_count,
        merged.last_landed_at
    from merged
    inner join label_drugs on merged.set_id = label_drugs.set_id
    left join youngest_ages on merged.set_id = youngest_ages.set_id
    left join label_sections on merged.set_id = label_sections.set_id
)

select * from final
