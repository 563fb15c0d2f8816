-- One row per distinct (active ingredient, drug name) pair a FAERS drug row (quarterly
-- files or openFDA API) reports, with the drug it links to (or why it does not). FDA's
-- coded active ingredient (`prod_ai`, `\` between the ingredients of a combination) is
-- matched alone when there is one, as a set of ingredients (exact normalised name):
-- `ACETAMINOPHEN\CODEINE` can only match the combination. Without it, the reported drug
-- name is matched as a set of ingredients, then as a brand.

with

drugs as (
    select
        drug_name,
        active_ingredient
    from {{ ref('stg_faers__drugs') }}
),

api_drugs as (
    select
        drug_name,
        active_ingredient
    from {{ ref('int_faers_api_drugs_unnested') }}
),

dictionary as (
    select
        drug_id,
        lookup_kind,
        lookup_value,
        is_ambiguous
    from {{ ref('int_drug_name_dictionary') }}
),

pairs as (
    select
        drug_name,
        active_ingredient,
        count(*) as drug_rows
    from (
        select
            drug_name,
            active_ingredient
        from drugs
        union all
        select
            drug_name,
            active_ingredient
        from api_drugs
    ) as reported
    where coalesce(drug_name, active_ingredient) is not null
    group by drug_name, active_ingredient
),

records as (
    select
        md5(coalesce(active_ingredient, '') || '|' || coalesce(drug_name, '')) as record_id,
        *
    from pairs
),

attempts as (
    select
        record_id,
        1 as attempt_order,
        'name' as lookup_kind,
        {{ drug_name_set('active_ingredient') }} as lookup_value
    from records
    where active_ingredient is not null
    union all
    select
        record_id,
        2,
        'name',
        {{ drug_name_set('drug_name') }}
    from records
    where active_ingredient is null
    union all
    select
        record_id,
        3,
        'brand',
        {{ normalised_drug_name('drug_name') }}
    from records
    where active_ingredient is null
),

resolved as (
    {{ resolve_drug_links('records', 'attempts', 'dictionary') | indent(4) }}
),

final as (
    select
        records.record_id as faers_drug_name_id,
        records.active_ingredient,
        records.drug_name,
        cast(records.drug_rows as integer) as drug_rows,
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
