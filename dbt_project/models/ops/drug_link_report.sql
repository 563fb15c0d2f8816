-- How the drug links went, in numbers (`medmirror report links` prints it, with the
-- refused records of `drug_link_ambiguities`): per source, the records tried, the share
-- linked, by method, and the ambiguous, conflicting and unmatched ones. FAERS counts drug
-- rows (each entry of `int_faers_drug_matches` weighs its `drug_rows`). One row per
-- metric; `share` is `value / out_of`.

with

trials as (
    select
        outcome,
        link_method,
        1 as weight
    from (
        select
            trial_intervention_id,
            intervention_name,
            outcome,
            link_method,
            candidate_drug_ids,
            ambiguous_values
        from {{ ref('int_trial_intervention_drug_matches') }}
    ) as matches
),

articles as (
    select
        outcome,
        link_method,
        1 as weight
    from (
        select
            article_chemical_id,
            substance_name,
            registry_number,
            outcome,
            link_method,
            candidate_drug_ids,
            ambiguous_values
        from {{ ref('int_article_chemical_drug_matches') }}
    ) as matches
),

faers as (
    select
        outcome,
        link_method,
        drug_rows as weight
    from (
        select
            faers_drug_name_id,
            active_ingredient,
            drug_name,
            drug_rows,
            outcome,
            link_method,
            candidate_drug_ids,
            ambiguous_values
        from {{ ref('int_faers_drug_matches') }}
    ) as matches
),

unioned as (
    select
        1 as source_position,
        'trial_interventions' as source,
        'ClinicalTrials.gov interventions of type drug or biological' as noun,
        *
    from trials
    union all
    select
        2,
        'article_chemicals',
        'PubMed chemicals of current articles',
        *
    from articles
    union all
    select
        3,
        'faers_drugs',
        'FAERS drug rows (landed)',
        *
    from faers
),

sources as (
    select distinct
        source_position,
        source,
        noun
    from unioned
    union
    select * from (
        values
        (
            1, 'trial_interventions',
            'ClinicalTrials.gov interventions of type drug or biological'
        ),
        (2, 'article_chemicals', 'PubMed chemicals of current articles'),
        (3, 'faers_drugs', 'FAERS drug rows (landed)')
    ) as known (source_position, source, noun)
),

measures (measure_position, measure, description) as (
    values
    (1, 'in', 'tried'),
    (2, 'linked', 'linked to a drug'),
    (3, 'linked_by_unii', 'linked by UNII'),
    (4, 'linked_by_rxnorm_id', 'linked by RxNorm ingredient id'),
    (5, 'linked_by_exact_name', 'linked by exact normalised name'),
    (6, 'linked_by_brand_name', 'linked by brand name'),
    (7, 'ambiguous', 'not linked: the name or code points at several drugs'),
    (8, 'conflicting', 'not linked: its names point at different drugs'),
    (9, 'unmatched', 'not linked: no drug has this name or code')
),

counted as (
    select
        sources.source_position,
        sources.source,
        sources.noun,
        measures.measure_position,
        measures.measure,
        measures.description,
        coalesce(sum(unioned.weight) filter (
            where measures.measure = 'in'
            or unioned.outcome = measures.measure
            or 'linked_by_' || unioned.link_method = measures.measure
        ), 0) as value,
        coalesce(sum(unioned.weight), 0) as total
    from sources
    cross join measures
    left join unioned on unioned.source = sources.source
    group by 1, 2, 3, 4, 5, 6
),

final as (
    select
        cast(source_position * 100 + measure_position as integer) as position,
        source || '_' || measure as metric,
        cast(value as numeric) as value,
        case when measure <> 'in' then cast(total as bigint) end as out_of,
        case when measure <> 'in' and total > 0 then round(cast(value as numeric) / total, 4) end as share,
        noun || ': ' || description as description,
        now() as built_at
    from counted
)

select * from final
