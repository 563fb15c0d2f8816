-- One row per drug: what a pharmacovigilance analyst asks first, in one row. The label's
-- highlights (boxed warning, indications, contraindications), its special populations,
-- the top adverse-event signals (FAERS, by PRR), the most recent linked trials and
-- articles, and how many of each are linked. A source not landed yet leaves its part
-- empty (every raw table exists from `medmirror init` on).

{{ config(indexes=[{'columns': ['drug_id'], 'unique': True}]) }}

{%- set shown = 5 %}

with

drugs as (
    select
        drug_id,
        generic_name,
        brand_names,
        is_combination,
        primary_set_id,
        last_label_date,
        boxed_warning,
        indications,
        contraindications,
        pregnancy_category,
        pregnancy,
        lactation,
        reproductive_potential,
        pediatric_use,
        pediatric_youngest_age_years,
        geriatric_use
    from {{ ref('drugs') }}
),

trials as (
    select
        drug_id,
        nct_id,
        brief_title,
        overall_status,
        start_date,
        last_update_post_date,
        link_method
    from {{ ref('drug_trials') }}
),

articles as (
    select
        drug_id,
        pmid,
        title,
        publication_date,
        link_method
    from {{ ref('drug_articles') }}
),

signals as (
    select
        drug_id,
        preferred_term,
        a,
        prr,
        prr_lower_95,
        is_signal
    from {{ ref('drug_reaction_signals') }}
),

event_drugs as (
    select
        drug_id,
        caseid
    from {{ ref('adverse_event_drugs') }}
),

trial_lists as (
    select
        drug_id,
        count(distinct nct_id) as linked_trial_count,
        (jsonb_agg(
            jsonb_build_object(
                'nct_id', nct_id, 'brief_title', brief_title,
                'overall_status', overall_status, 'start_date', start_date,
                'link_method', link_method
            )
            order by coalesce(start_date, last_update_post_date) desc nulls last, nct_id
        )) as trials
    from (
        select distinct on (drug_id, nct_id) * from trials
        order by drug_id, nct_id
    ) as one
    group by drug_id
),

article_lists as (
    select
        drug_id,
        count(distinct pmid) as linked_article_count,
        jsonb_agg(
            jsonb_build_object(
                'pmid', pmid, 'title', title, 'publication_date', publication_date,
                'link_method', link_method
            )
            order by publication_date desc nulls last, pmid desc
        ) as articles
    from (
        select distinct on (drug_id, pmid) * from articles
        order by drug_id, pmid
    ) as one
    group by drug_id
),

signal_lists as (
    select
        drug_id,
        jsonb_agg(
            jsonb_build_object(
                'preferred_term', preferred_term, 'cases', a, 'prr', round(prr, 2),
                'prr_lower_95', round(prr_lower_95, 2), 'is_signal', is_signal
            )
            order by is_signal desc, prr desc nulls last, a desc, preferred_term
        ) as signals
    from signals
    where drug_id is not null
    group by drug_id
),

case_counts as (
    select
        drug_id,
        count(distinct caseid) as adverse_event_case_count
    from event_drugs
    where drug_id is not null
    group by drug_id
),

profiled as (
    select
        drugs.drug_id,
        drugs.generic_name,
        drugs.brand_names,
        drugs.is_combination,
        drugs.primary_set_id,
        drugs.last_label_date,
        drugs.boxed_warning,
        drugs.indications,
        drugs.contraindications,
        jsonb_strip_nulls(jsonb_build_object(
            'pregnancy_category', drugs.pregnancy_category,
            'pregnancy', drugs.pregnancy,
            'lactation', drugs.lactation,
            'reproductive_potential', drugs.reproductive_potential,
            'pediatric_use', drugs.pediatric_use,
            'pediatric_youngest_age_years', drugs.pediatric_youngest_age_years,
            'geriatric_use', drugs.geriatric_use
        )) as special_populations,
        coalesce(
            jsonb_path_query_array(signal_lists.signals, '$[0 to {{ shown - 1 }}]'), '[]'
        ) as top_signals,
        coalesce(
            jsonb_path_query_array(trial_lists.trials, '$[0 to {{ shown - 1 }}]'), '[]'
        ) as recent_trials,
        coalesce(
            jsonb_path_query_array(article_lists.articles, '$[0 to {{ shown - 1 }}]'), '[]'
        ) as recent_articles,
        cast(coalesce(trial_lists.linked_trial_count, 0) as integer) as linked_trial_count,
        cast(coalesce(article_lists.linked_article_count, 0) as integer)
            as linked_article_count,
        cast(coalesce(case_counts.adverse_event_case_count, 0) as integer)
            as adverse_event_case_count
    from drugs
    left join trial_lists on drugs.drug_id = trial_lists.drug_id
    left join article_lists on drugs.drug_id = article_lists.drug_id
    left join signal_lists on drugs.drug_id = signal_lists.drug_id
    left join case_counts on drugs.drug_id = case_counts.drug_id
)

select * from profiled
