-- One row per PubMed chemical (MEDLINE's chemical list of a current article), with the
-- drug it links to (or why it does not): its registry number when it is a UNII, then its
-- substance name as a set of ingredients (exact normalised name), then as a brand.

with

chemicals as (
    select
        article_chemical_id,
        pmid,
        substance_name,
        substance_ui,
        registry_number,
        registry_number_type
    from {{ ref('int_article_chemicals_unnested') }}
),

dictionary as (
    select
        drug_id,
        lookup_kind,
        lookup_value,
        is_ambiguous
    from {{ ref('int_drug_name_dictionary') }}
),

records as (
    select
        article_chemical_id as record_id,
        *
    from chemicals
),

attempts as (
    select
        record_id,
        1 as attempt_order,
        'unii' as lookup_kind,
        registry_number as lookup_value
    from records
    where registry_number_type = 'UNII'
    union all
    select
        record_id,
        2,
        'name',
        {{ drug_name_set('substance_name') }}
    from records
    union all
    select
        record_id,
        3,
        'brand',
        {{ normalised_drug_name('substance_name') }}
    from records
),

resolved as (
    {{ resolve_drug_links('records', 'attempts', 'dictionary') | indent(4) }}
),

final as (
    select
        records.article_chemical_id,
        records.pmid,
        records.substance_name,
        records.substance_ui,
        records.registry_number,
        records.registry_number_type,
        resolved.outcome,
        resolved.drug_id,
        resolved.link_method,
        resolved.matched_value,
        resolved.candidate_drug_ids,
        resolved.ambiguous_values
    from records
    inner join resolved on records.record_id = resolved.record_id
)

select * from final
