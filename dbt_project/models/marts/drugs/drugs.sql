-- sqlfluff cannot indent the body of a Jinja loop here: layout left to the author.
-- noqa: disable=LT02
-- One row per drug: one active-moiety set (each single ingredient, and each combination
-- on its own), keyed by `drug_id` (see the `drug_id` macro and the model docs for how
-- the key is built and why it is stable), with every formulation, the classes, the
-- clinical and special-population text of its best label, and a weighted search vector.
-- Conflict resolution and the confidence score are described in _drugs__docs.md.
-- Names, brands and RxNorm ids come from `int_drugs_named`; the link counts (trials,
-- articles, adverse event cases) are counted from the link marts, built before it.

{{ config(
    post_hook=[
        "analyze {{ this }}",
        "{{ create_search_function(
            columns=[
                ('drug_id', 'text'),
                ('generic_name', 'text'),
                ('brand_names', 'text[]'),
                ('total_formulations', 'integer'),
                ('confidence_score', 'numeric'),
                ('last_label_date', 'date'),
            ],
            year='last_label_year',
            prior='last_label_date',
        ) }}",
    ],
    indexes=[
        {'columns': ['drug_id'], 'unique': True},
        {'columns': ['ingredient_key'], 'unique': True},
        {'columns': ['search_vector', 'last_label_year'], 'type': 'gin'},
        {'columns': ['last_label_date']},
    ],
) }}

{%- set label_fields = [
    'indications', 'mechanism_of_action', 'boxed_warning', 'contraindications', 'warnings',
    'adverse_reactions', 'drug_interactions', 'dosage_and_administration',
    'pregnancy', 'pregnancy_category', 'lactation', 'reproductive_potential',
    'pediatric_use', 'pediatric_youngest_age_years', 'geriatric_use',
] %}
{%- set clinical_fields = [
    'indications', 'contraindications', 'warnings', 'adverse_reactions', 'drug_interactions',
] %}

with

drugs_named as (
    select * from {{ ref('int_drugs_named') }}
),

labels as (
    select * from {{ ref('drug_labels') }}
),

formulations as (
    select * from {{ ref('drug_formulations') }}
),

classes as (
    select * from {{ ref('drug_classes') }}
),

trials as (
    select
        drug_id,
        nct_id
    from {{ ref('drug_trials') }}
),

articles as (
    select
        drug_id,
        pmid
    from {{ ref('drug_articles') }}
),

event_drugs as (
    select
        drug_id,
        caseid
    from {{ ref('adverse_event_drugs') }}
),

-- The drugs each label describes (`int_drug_labels_linked`, as the label mart lists them).
links as (
    select
        drug.id as drug_id,
        labels.set_id
    from labels
    cross join lateral unnest(labels.drug_ids) as drug (id)
),

-- Conflict resolution: for each field, the first linked label that has it, in this
-- order: the original labeler's label before a repackager's, a DailyMed label before an
-- openFDA-only one, the newest effective date, then the set id (stable order).
ranked_labels as (
    select
        links.drug_id,
        labels.*,
        row_number() over (
            partition by links.drug_id
            order by
                labels.is_repackager,
                ('dailymed' = any(labels.sources)) desc,
                labels.effective_date desc nulls last,
                labels.set_id
        ) as label_rank
    from links
    inner join labels on links.set_id = labels.set_id
),

label_picks as (
    select
        drug_id,
        (array_agg(set_id order by label_rank))[1] as primary_set_id,
        array_agg(set_id order by label_rank) as label_set_ids,
        max(effective_date) as last_label_date,
        bool_or('dailymed' = any(sources)) as has_dailymed_label,
        bool_or('openfda' = any(sources)) as has_openfda_label,
        {%- for field in label_fields %}
        (array_agg({{ field }} order by label_rank)
            filter (where {{ field }} is not null))[1] as {{ field }}{{ ',' if not loop.last }}
        {%- endfor %}
    from ranked_labels
    group by drug_id
),

manufacturer_candidates as (
    select
        drug_id,
        labeler_name as name
    from formulations
    where drug_id is not null and labeler_name is not null
    union
    select
        links.drug_id,
        labels.labeler_name
    from links
    inner join labels on links.set_id = labels.set_id
    where labels.labeler_name is not null
),

manufacturers as (
    select
        drug_id,
        array_agg(name order by name) as names
    from manufacturer_candidates
    group by drug_id
),

drug_formulations as (
    select
        drug_id,
        jsonb_agg(
            jsonb_build_object(
                'formulation_id', formulation_id,
                'ndc_product_code', ndc_product_code,
                'ndc_product_code_11', ndc_product_code_11,
                'ndc_package_codes', to_jsonb(ndc_package_codes),
                'ndc_package_codes_11', to_jsonb(ndc_package_codes_11),
                'strength', strength,
                'dosage_form', dosage_form,
                'routes', to_jsonb(routes),
                'brand_name', brand_name,
                'labeler_name', labeler_name,
                'marketing_category', marketing_category,
                'marketing_start_date', marketing_start_date,
                'marketing_end_date', marketing_end_date,
                'application_number', application_number,
                'te_code', te_code,
                'orange_book_product_id', orange_book_product_id,
                'is_repackaged', is_repackaged,
                'set_id', set_id,
                'sources', to_jsonb(sources)
            )
            order by formulation_id
        ) as formulations,
        count(*) as total_formulations,
        array(
            select distinct source
            from unnest(array_agg(array_to_string(sources, ','))) as joined (sources)
            cross join lateral unnest(string_to_array(joined.sources, ',')) as source
            order by 1
        ) as sources
    from formulations
    where drug_id is not null
    group by drug_id
),

class_lists as (
    select
        drug_id,
        array_agg(class_name order by class_name) filter (where class_type = 'EPC')
            as epc_classes,
        array_agg(class_name order by class_name) filter (where class_type = 'MoA')
            as moa_classes,
        array_agg(class_name order by class_name) filter (where class_type = 'PE')
            as pe_classes,
        array_agg(class_name order by class_name) filter (where class_type = 'ATC')
            as atc_classes,
        bool_or('rxnav' = any(sources)) as has_rxclass
    from classes
    group by drug_id
),

-- How many trials, articles and adverse event cases link to each drug.
trial_counts as (
    select
        drug_id,
        count(distinct nct_id) as linked_trial_count
    from trials
    where drug_id is not null
    group by drug_id
),

article_counts as (
    select
        drug_id,
        count(distinct pmid) as linked_article_count
    from articles
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

assembled as (
    select
        drugs_named.drug_id,
        drugs_named.ingredient_key,
        array_to_string(drugs_named.ingredient_names, ' and ') as generic_name,
        drugs_named.ingredient_names,
        coalesce(drugs_named.active_moiety_uniis, cast(array[] as text[]))
            as active_moiety_uniis,
        cast(drugs_named.ingredient_count as integer) as ingredient_count,
        drugs_named.ingredient_count > 1 as is_combination,
        drugs_named.is_keyed_by_name,
        drugs_named.brand_names,
        coalesce(manufacturers.names, cast(array[] as text[])) as manufacturers,
        coalesce(drug_formulations.formulations, '[]'::jsonb) as formulations,
        cast(coalesce(drug_formulations.total_formulations, 0) as integer)
            as total_formulations,
        coalesce(class_lists.epc_classes, cast(array[] as text[])) as epc_classes,
        coalesce(class_lists.moa_classes, cast(array[] as text[])) as moa_classes,
        coalesce(class_lists.pe_classes, cast(array[] as text[])) as pe_classes,
        coalesce(class_lists.atc_classes, cast(array[] as text[])) as atc_classes,
        drugs_named.rxcuis,
        drugs_named.ingredient_rxcuis,
        {%- for field in label_fields %}
        label_picks.{{ field }},
        {%- endfor %}
        label_picks.pregnancy is not null as has_pregnancy,
        label_picks.lactation is not null as has_lactation,
        label_picks.reproductive_potential is not null as has_reproductive_potential,
        label_picks.pediatric_use is not null as has_pediatric_use,
        label_picks.geriatric_use is not null as has_geriatric_use,
        label_picks.primary_set_id,
        coalesce(label_picks.label_set_ids, cast(array[] as text[])) as label_set_ids,
        label_picks.last_label_date,
        cast(extract(year from label_picks.last_label_date) as smallint) as last_label_year,
        array(
            select distinct source
            from unnest(
                coalesce(drug_formulations.sources, cast(array[] as text[]))
                || case when label_picks.has_dailymed_label then array['dailymed'] end
                || case when label_picks.has_openfda_label then array['openfda'] end
                || case
                    when drugs_named.has_rxnav or class_lists.has_rxclass then array['rxnav']
                end
            ) as source
            where source is not null
            order by 1
        ) as data_sources,
        coalesce(
            {%- for field in clinical_fields %}
            label_picks.{{ field }} is not null{{ ' or' if not loop.last }}
            {%- endfor %},
            false
        ) as has_clinical_data,
        (
            {%- for field in clinical_fields %}
            case when label_picks.{{ field }} is not null then 1 else 0 end
            {{- ' +' if not loop.last }}
            {%- endfor %}
        ) / {{ clinical_fields | length }}.0 as clinical_completeness
    from drugs_named
    left join manufacturers on drugs_named.drug_id = manufacturers.drug_id
    left join drug_formulations on drugs_named.drug_id = drug_formulations.drug_id
    left join class_lists on drugs_named.drug_id = class_lists.drug_id
    left join label_picks on drugs_named.drug_id = label_picks.drug_id
),

with_counts as (
    select
        assembled.*,
        cast(coalesce(trial_counts.linked_trial_count, 0) as integer) as linked_trial_count,
        cast(coalesce(article_counts.linked_article_count, 0) as integer)
            as linked_article_count,
        cast(coalesce(case_counts.adverse_event_case_count, 0) as integer)
            as adverse_event_case_count
    from assembled
    left join trial_counts on assembled.drug_id = trial_counts.drug_id
    left join article_counts on assembled.drug_id = article_counts.drug_id
    left join case_counts on assembled.drug_id = case_counts.drug_id
),

-- confidence_score (0 to 1, two decimals), documented in _drugs__docs.md.
scored as (
    select
        assembled.*,
        round(
            0.30 * case when not is_keyed_by_name then 1 else 0 end
            + 0.20 * case when 'dailymed' = any(data_sources) then 1 else 0 end
            + 0.15 * case when total_formulations > 0 then 1 else 0 end
            + 0.10 * case when cardinality(data_sources) >= 2 then 1 else 0 end
            + 0.10 * case when cardinality(rxcuis) > 0 then 1 else 0 end
            + 0.15 * clinical_completeness,
            2
        ) as confidence_score
    from with_counts as assembled
),

searchable as (
    select
        drug_id,
        ingredient_key,
        generic_name,
        ingredient_names,
        active_moiety_uniis,
        ingredient_count,
        is_combination,
        is_keyed_by_name,
        brand_names,
        manufacturers,
        formulations,
        total_formulations,
        epc_classes,
        moa_classes,
        pe_classes,
        atc_classes,
        rxcuis,
        ingredient_rxcuis,
        {%- for field in label_fields %}
        {{ field }},
        {%- endfor %}
        has_pregnancy,
        has_lactation,
        has_reproductive_potential,
        has_pediatric_use,
        has_geriatric_use,
        primary_set_id,
        label_set_ids,
        last_label_date,
        last_label_year,
        data_sources,
        has_clinical_data,
        confidence_score,
        linked_trial_count,
        linked_article_count,
        adverse_event_case_count,
        {{ search_vector({
            'A': ['generic_name', "array_to_string(brand_names, ' ')"],
            'B': [
                "array_to_string(epc_classes, ' ')",
                "array_to_string(moa_classes, ' ')",
                "array_to_string(manufacturers, ' ')",
            ],
            'C': ['indications'],
            'D': ['mechanism_of_action'],
        }) }} as search_vector
    from scored
)

select * from searchable
