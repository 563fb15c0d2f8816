-- One row per drug of a current adverse event case, with its role and its ingredient
-- name normalised (`normalised_drug_name` of FAERS prod_ai, or of the drug name when
-- FAERS gives no active ingredient, as in legacy AERS and most openFDA reports), and the
-- drug of the drugs mart it links to (`int_faers_drug_matches`: by prod_ai alone when
-- there is one, else by drug name or brand; a combination only to the combination).
-- The drug marts and FAERS may land in either order.
-- Incremental: a build rebuilds the cases with something landed since the previous one
-- (as `adverse_event_reports`), and the cases with a drug row whose link changed (the
-- drug dictionary moves when the drug sources land: `int_faers_drug_matches` now links
-- its names to another drug, or by another method), whole (delete+insert by case).

{{ config(
    materialized='incremental',
    sql_header=without_nested_loops(),
    incremental_strategy='delete+insert',
    unique_key='caseid',
    pre_hook="{{ delete_changed_keys('caseid', ref('int_faers_cases_last_landed')) }}",
    indexes=[
        {'columns': ['caseid']},
        {'columns': ['ingredient_name']},
        {'columns': ['drug_id']},
        {'columns': ['last_landed_at']},
    ],
) }}

with

case_landings as (
    select
        caseid,
        last_landed_at
    from {{ ref('int_faers_cases_last_landed') }}
),

matches as (
    select * from {{ ref('int_faers_drug_matches') }}
),

{% if is_incremental() %}
    -- The cases built before whose drug rows the dictionary now links otherwise.
    relinked_cases as (
        select distinct built.caseid
        from {{ this }} as built
        left join matches
            on coalesce(matches.active_ingredient, '') = coalesce(built.active_ingredient, '')
            and coalesce(matches.drug_name, '') = coalesce(built.drug_name, '')
        where (matches.drug_id, matches.link_method)
            is distinct from (built.drug_id, built.drug_link_method)
    ),
{% endif %}

changed_cases as (
    select
        caseid,
        last_landed_at
    from case_landings
    where {{ newer_than_built() }}
    -- sqlfluff, linting this block (rendered only where the table exists), asks for
    -- another indent each time it is moved: layout left to the author.
    -- noqa: disable=LT02
    {% if is_incremental() %}
        or caseid in (select caseid from relinked_cases)
    {% endif %}
),
-- noqa: enable=LT02

current_cases as (
    select
        caseid,
        primaryid,
        load_id,
        is_deleted
    from {{ ref('int_faers_cases_deduplicated') }}
    where {{ among_changed_keys('caseid', 'changed_cases', by_index=false) }}
),

drugs as (
    select
        primaryid,
        load_id,
        drug_seq,
        role_code,
        drug_name,
        active_ingredient,
        route,
        dose_verbatim,
        dose_amount,
        dose_unit,
        dose_form,
        dose_frequency,
        dechallenge_code,
        rechallenge_code,
        nda_number
    from {{ ref('stg_faers__drugs') }}
    where {{ among_changed_keys('primaryid', 'current_cases') }}
),

reports as (
    select
        caseid,
        record_source
    from {{ ref('adverse_event_reports') }}
    where {{ among_changed_keys('caseid', 'changed_cases', by_index=false) }}
),

api_drugs as (
    select
        caseid,
        safetyreportid,
        drug_seq,
        characterization_code,
        drug_name,
        active_ingredient,
        route_code,
        dose_verbatim,
        dose_amount,
        dose_unit_code,
        dose_form
    from {{ ref('int_faers_api_drugs_unnested') }}
    where {{ among_changed_keys('caseid', 'changed_cases', by_index=false) }}
),

quarterly as (
    select
        current_cases.caseid,
        current_cases.primaryid,
        drugs.drug_seq,
        drugs.role_code,
        drugs.drug_name,
        drugs.active_ingredient,
        drugs.route,
        drugs.dose_verbatim,
        drugs.dose_amount,
        drugs.dose_unit,
        drugs.dose_form,
        drugs.dose_frequency,
        drugs.dechallenge_code,
        drugs.rechallenge_code,
        drugs.nda_number,
        'faers_quarterly' as record_source
    from current_cases
    inner join drugs
        on drugs.primaryid = current_cases.primaryid
        and drugs.load_id = current_cases.load_id
    inner join reports  -- the quarterly version is the case's current one
        on reports.caseid = current_cases.caseid
        and reports.record_source = 'faers_quarterly'
    where not current_cases.is_deleted
),

from_api as (
    select
        api_drugs.caseid,
        api_drugs.safetyreportid as primaryid,
        cast(api_drugs.drug_seq as text) as drug_seq,
        case api_drugs.characterization_code
            when '1' then 'S'
            when '2' then 'C'
            when '3' then 'I'
        end as role_code,
        api_drugs.drug_name,
        api_drugs.active_ingredient,
        api_drugs.route_code as route,
        api_drugs.dose_verbatim,
        api_drugs.dose_amount,
        api_drugs.dose_unit_code as dose_unit,
        api_drugs.dose_form,
        cast(null as text) as dose_frequency,
        cast(null as text) as dechallenge_code,
        cast(null as text) as rechallenge_code,
        cast(null as text) as nda_number,
        'openfda_api' as record_source
    from api_drugs
    inner join reports
        on reports.caseid = api_drugs.caseid
        and reports.record_source = 'openfda_api'
),

all_drugs as (
    select * from quarterly
    union all
    select * from from_api
),

final as (
    select
        all_drugs.caseid || '-' || all_drugs.drug_seq as adverse_event_drug_id,
        all_drugs.caseid,
        all_drugs.primaryid,
        all_drugs.drug_seq,
        all_drugs.role_code,
        case role_code
            when 'PS' then 'primary suspect'
            when 'SS' then 'secondary suspect'
            when 'C' then 'concomitant'
            when 'I' then 'interacting'
            when 'S' then 'suspect'
        end as role,
        coalesce(role_code in ('PS', 'SS', 'S'), false) as is_suspect,
        all_drugs.drug_name,
        all_drugs.active_ingredient,
        {{ normalised_drug_name('coalesce(all_drugs.active_ingredient, all_drugs.drug_name)') }}
            as ingredient_name,
        route,
        dose_verbatim,
        dose_amount,
        dose_unit,
        dose_form,
        dose_frequency,
        dechallenge_code,
        rechallenge_code,
        nda_number,
        record_source,
        matches.drug_id,
        matches.link_method as drug_link_method,
        changed_cases.last_landed_at
    from all_drugs
    inner join changed_cases on changed_cases.caseid = all_drugs.caseid
    left join matches
        on coalesce(matches.active_ingredient, '') = coalesce(all_drugs.active_ingredient, '')
        and coalesce(matches.drug_name, '') = coalesce(all_drugs.drug_name, '')
)

select * from final
