-- sqlfluff cannot indent the body of a Jinja loop here: layout left to the author.
-- noqa: disable=LT02
-- One row per current label and source (DailyMed, openFDA) with the text of each
-- clinical field, found by LOINC section code in both label formats:
--
-- | field | LOINC codes, the first found wins |
-- |---|---|
-- | pregnancy | 42228-7 Pregnancy (8.1; under Precautions in old labels), else |
-- |           | 34077-8 Teratogenic effects |
-- | lactation | 77290-5 Lactation (PLLR labels), else 34080-2 Nursing mothers |
-- | reproductive_potential | 77291-3 Females and males of reproductive potential |
-- | pediatric_use, geriatric_use | 34081-0, 34082-8 |
-- | boxed_warning, indications | 34066-1, 34067-9 |
-- | dosage_and_administration, contraindications | 34068-7, 34070-3 |
-- | warnings | 43685-7 Warnings and precautions, else 34071-1 Warnings |
-- | adverse_reactions, drug_interactions | 34084-4, 34073-7 |
-- | mechanism_of_action | 43679-0 |
--
-- A field's text is its section's own text followed by each subsection's title and text
-- (old labels put "Pregnancy Category X" in a Teratogenic effects subsection of 8.1). When
-- a code occurs more than once, the occurrence outside Contraindications and Warnings
-- wins (Lipitor repeats "4.3 Pregnancy" under Contraindications), then the shallowest,
-- then the first. openFDA gives each field as its own text array: it has no
-- reproductive-potential field (null here), and its lactation text comes from
-- `lactation` where a record has one, else `nursing_mothers`.
--
-- Incremental by set id: a run rebuilds both rows of each set id with anything landed
-- since the previous run in either source (`last_landed_at`, the later of the two
-- sources' landings), and only those labels' documents are read.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys(
        'set_id',
        [ref('int_dailymed_labels_current'), ref('int_openfda_labels_current')],
    ) }}",
    indexes=[
        {'columns': ['set_id', 'source'], 'unique': True},
        {'columns': ['last_landed_at']},
    ],
) }}

{%- set fields = [
    ('boxed_warning', '34066-1', 1),
    ('indications', '34067-9', 1),
    ('dosage_and_administration', '34068-7', 1),
    ('contraindications', '34070-3', 1),
    ('warnings', '43685-7', 1),
    ('warnings', '34071-1', 2),
    ('adverse_reactions', '34084-4', 1),
    ('drug_interactions', '34073-7', 1),
    ('mechanism_of_action', '43679-0', 1),
    ('pregnancy', '42228-7', 1),
    ('pregnancy', '34077-8', 2),
    ('lactation', '77290-5', 1),
    ('lactation', '34080-2', 2),
    ('reproductive_potential', '77291-3', 1),
    ('pediatric_use', '34081-0', 1),
    ('geriatric_use', '34082-8', 1),
] %}
{%- set field_names = [
    'boxed_warning', 'indications', 'dosage_and_administration', 'contraindications',
    'warnings', 'adverse_reactions', 'drug_interactions', 'mechanism_of_action',
    'pregnancy', 'lactation', 'reproductive_potential', 'pediatric_use', 'geriatric_use',
] %}

-- recursive: `subsections` walks down the section tree.
with recursive

-- The set ids to build and when anything of them last landed, in either source.
changed_landings as (
    select
        set_id,
        last_landed_at
    from {{ ref('int_dailymed_labels_current') }}
    where {{ newer_than_built() }}
    union all
    select
        set_id,
        last_landed_at
    from {{ ref('int_openfda_labels_current') }}
    where {{ newer_than_built() }}
),

changed_sets as (
    select
        set_id,
        max(last_landed_at) as last_landed_at
    from changed_landings
    group by set_id
),

labels as (
    select
        set_id,
        spl_version,
        load_id,
        effective_date,
        labeler_name,
        title,
        document_type_code,
        document_type_name,
        spl_id
    from {{ ref('int_dailymed_labels_current') }}
    where not is_deleted and {{ among_changed_keys('set_id', 'changed_sets') }}
),

-- The section tree without its texts (small enough to stay in memory; the texts, about
-- 24 KB a label, are read once at the end, for the chosen sections only).
sections as (
    select
        set_id,
        spl_version,
        load_id,
        section_position,
        section_code,
        section_level,
        parent_section_code,
        parent_section_position
    from {{ ref('stg_dailymed__sections') }}
    where {{ among_changed_keys('set_id', 'changed_sets') }}
),

section_texts as (
    select
        set_id,
        spl_version,
        load_id,
        section_position,
        section_title,
        section_text
    from {{ ref('stg_dailymed__sections') }}
    where {{ among_changed_keys('set_id', 'changed_sets') }}
),

openfda_labels as (
    select
        set_id,
        spl_id,
        version_number,
        effective_date,
        manufacturer_names,
        brand_names,
        boxed_warning,
        indications_and_usage,
        dosage_and_administration,
        contraindications,
        warnings_and_cautions,
        warnings,
        adverse_reactions,
        drug_interactions,
        mechanism_of_action,
        pregnancy,
        teratogenic_effects,
        nursing_mothers,
        lactation,
        pediatric_use,
        geriatric_use
    from {{ ref('int_openfda_labels_current') }}
    where not is_deleted and {{ among_changed_keys('set_id', 'changed_sets') }}
),

wanted as (
    select * from (
        values
        {%- for field, code, priority in fields %}
            ('{{ field }}', '{{ code }}', {{ priority }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as wanted (field, section_code, code_priority)
),

current_sections as (
    select sections.*
    from sections
    inner join labels using (set_id, spl_version, load_id)
),

chosen as (
    select distinct on (current_sections.set_id, wanted.field)
        current_sections.set_id,
        current_sections.spl_version,
        current_sections.load_id,
        wanted.field,
        current_sections.section_position
    from current_sections
    inner join wanted on current_sections.section_code = wanted.section_code
    order by
        current_sections.set_id,
        wanted.field,
        wanted.code_priority,
        coalesce(
            current_sections.parent_section_code in ('34070-3', '34071-1', '43685-7'), false
        ),
        current_sections.section_level,
        current_sections.section_position
),

-- Every subsection below a chosen section, however deep.
subsections (set_id, spl_version, load_id, field, section_position) as (
    select
        current_sections.set_id,
        current_sections.spl_version,
        current_sections.load_id,
        chosen.field,
        current_sections.section_position
    from chosen
    inner join current_sections
        on chosen.set_id = current_sections.set_id
        and chosen.section_position = current_sections.parent_section_position
    union all
    select
        current_sections.set_id,
        current_sections.spl_version,
        current_sections.load_id,
        subsections.field,
        current_sections.section_position
    from subsections
    inner join current_sections
        on subsections.set_id = current_sections.set_id
        and subsections.section_position = current_sections.parent_section_position
),

field_parts as (
    select
        chosen.set_id,
        chosen.spl_version,
        chosen.load_id,
        chosen.field,
        chosen.section_position,
        true as is_chosen
    from chosen
    union all
    select
        subsections.set_id,
        subsections.spl_version,
        subsections.load_id,
        subsections.field,
        subsections.section_position,
        false as is_chosen
    from subsections
),

-- The texts of those sections: one pass over the current labels' sections.
part_texts as (
    select
        field_parts.set_id,
        field_parts.field,
        field_parts.section_position,
        field_parts.is_chosen,
        texts.section_title,
        texts.section_text
    from field_parts
    inner join section_texts as texts
        on field_parts.set_id = texts.set_id
        and field_parts.spl_version = texts.spl_version
        and field_parts.load_id = texts.load_id
        and field_parts.section_position = texts.section_position
),

-- A field's text: its section's own text, then each subsection's title and text in
-- document order.
field_texts as (
    select
        set_id,
        field,
        nullif(trim(concat_ws(
            chr(10),
            max(section_text) filter (where is_chosen),
            string_agg(
                concat_ws(chr(10), section_title, section_text),
                chr(10) order by section_position
            ) filter (where not is_chosen)
        )), '') as field_text
    from part_texts
    group by set_id, field
),

dailymed_fields as (
    select
        'dailymed' as source,
        labels.set_id,
        labels.spl_id,
        labels.spl_version as version_number,
        labels.effective_date,
        labels.labeler_name,
        labels.title,
        labels.document_type_code,
        labels.document_type_name,
        {%- for field in field_names %}
        max(field_texts.field_text) filter (where field_texts.field = '{{ field }}')
            as {{ field }}{{ ',' if not loop.last }}
        {%- endfor %}
    from labels
    left join field_texts on labels.set_id = field_texts.set_id
    -- Pharmacologic-class indexing SPLs index substances; they are not drug labels.
    where labels.document_type_code is distinct from '60685-5'
    group by
        labels.set_id,
        labels.spl_id,
        labels.spl_version,
        labels.effective_date,
        labels.labeler_name,
        labels.title,
        labels.document_type_code,
        labels.document_type_name
),

openfda_fields as (
    select
        'openfda' as source,
        set_id,
        spl_id,
        cast(version_number as bigint) as version_number,
        effective_date,
        manufacturer_names[1] as labeler_name,
        cast(null as text) as title,
        cast(null as text) as document_type_code,
        cast(null as text) as document_type_name,
        boxed_warning,
        indications_and_usage as indications,
        dosage_and_administration,
        contraindications,
        coalesce(warnings_and_cautions, warnings) as warnings,
        adverse_reactions,
        drug_interactions,
        mechanism_of_action,
        coalesce(pregnancy, teratogenic_effects) as pregnancy,
        coalesce(lactation, nursing_mothers) as lactation,
        cast(null as text) as reproductive_potential,
        pediatric_use,
        geriatric_use
    from openfda_labels
),

unioned as (
    select * from dailymed_fields
    union all
    select * from openfda_fields
),

with_landings as (
    select
        unioned.*,
        changed_sets.last_landed_at
    from unioned
    inner join changed_sets on unioned.set_id = changed_sets.set_id
)

select * from with_landings
