-- How the drug consolidation went, in numbers (`medmirror report drugs` prints it):
-- labels in, drugs out, products and formulations linked and not, the share of drugs
-- with an RxNorm id, and how many drugs have each special-population field. One row per
-- metric; `share` is `value / out_of` where a share makes sense.

with

labels as (
    select * from {{ ref('drug_labels') }}
),

products as (
    select * from {{ ref('int_drug_products_unioned') }}
),

formulations as (
    select * from {{ ref('drug_formulations') }}
),

drugs as (
    select * from {{ ref('drugs') }}
),

totals as (
    select
        (select count(*) from labels) as labels,
        (select count(*) from products) as products,
        (select count(*) from formulations) as formulations,
        (select count(*) from drugs) as drugs
),

metrics (position, metric, value, out_of, description) as (
    select
        1,
        'labels_in',
        (select count(*) from labels),
        null::bigint,
        'Current drug labels (set ids) from DailyMed and openFDA, class-indexing SPLs excluded'
    union all
    select
        2,
        'dailymed_labels_in',
        (
            select count(*) from labels
            where 'dailymed' = any(sources)
        ),
        (select labels from totals),
        'Current DailyMed drug labels'
    union all
    select
        3,
        'openfda_labels_in',
        (
            select count(*) from labels
            where 'openfda' = any(sources)
        ),
        (select labels from totals),
        'Current openFDA labels'
    union all
    select
        4,
        'labels_linked',
        (
            select count(*) from labels
            where cardinality(drug_ids) > 0
        ),
        (select labels from totals),
        'Labels linked to at least one drug'
    union all
    select
        5,
        'labels_unlinked',
        (
            select count(*) from labels
            where cardinality(drug_ids) = 0
        ),
        (select labels from totals),
        'Labels no drug could be built for (no product, ingredient, UNII or name)'
    union all
    select
        6,
        'products_in',
        (select products from totals),
        null,
        'Products landed: those of current DailyMed labels and current openFDA NDC listings'
    union all
    select
        7,
        'products_linked',
        (
            select count(*) from products
            where drug_id is not null
        ),
        (select products from totals),
        'Products linked to a drug'
    union all
    select
        8,
        'products_unlinked',
        (
            select count(*) from products
            where drug_id is null
        ),
        (select products from totals),
        'Products without any ingredient, UNII or name to key a drug by: in no drug'
    union all
    select
        9,
        'formulations_out',
        (select formulations from totals),
        null,
        'Formulations (NDC products, both sources merged)'
    union all
    select
        10,
        'formulations_linked',
        (
            select count(*) from formulations
            where drug_id is not null
        ),
        (select formulations from totals),
        'Formulations linked to a drug'
    union all
    select
        11,
        'formulations_with_te_code',
        (
            select count(*) from formulations
            where te_code is not null
        ),
        (select formulations from totals),
        'Formulations with an Orange Book therapeutic-equivalence code'
    union all
    select
        12,
        'drugs_out',
        (select drugs from totals),
        null,
        'Drugs (active-moiety sets)'
    union all
    select
        13,
        'combination_drugs',
        (
            select count(*) from drugs
            where is_combination
        ),
        (select drugs from totals),
        'Drugs of two or more active moieties'
    union all
    select
        14,
        'drugs_keyed_by_name',
        (
            select count(*) from drugs
            where is_keyed_by_name
        ),
        (select drugs from totals),
        'Drugs with a moiety known by name only (no UNII): their key may change'
    union all
    select
        15,
        'drugs_with_rxnorm_id',
        (
            select count(*) from drugs
            where cardinality(rxcuis) + cardinality(ingredient_rxcuis) > 0
        ),
        (select drugs from totals),
        'Drugs with an RxNorm id'
    union all
    select
        16,
        'drugs_with_clinical_data',
        (
            select count(*) from drugs
            where has_clinical_data
        ),
        (select drugs from totals),
        'Drugs with indications, contraindications, warnings, adverse reactions or interactions'
    union all
    select
        17,
        'drugs_with_pregnancy',
        (
            select count(*) from drugs
            where has_pregnancy
        ),
        (select drugs from totals),
        'Drugs with pregnancy text'
    union all
    select
        18,
        'drugs_with_pregnancy_category',
        (
            select count(*) from drugs
            where pregnancy_category is not null
        ),
        (select drugs from totals),
        'Drugs whose label states an A/B/C/D/X pregnancy category'
    union all
    select
        19,
        'drugs_with_lactation',
        (
            select count(*) from drugs
            where has_lactation
        ),
        (select drugs from totals),
        'Drugs with lactation or nursing-mothers text'
    union all
    select
        20,
        'drugs_with_reproductive_potential',
        (
            select count(*) from drugs
            where has_reproductive_potential
        ),
        (select drugs from totals),
        'Drugs with females-and-males-of-reproductive-potential text'
    union all
    select
        21,
        'drugs_with_pediatric_use',
        (
            select count(*) from drugs
            where has_pediatric_use
        ),
        (select drugs from totals),
        'Drugs with pediatric-use text'
    union all
    select
        22,
        'drugs_with_pediatric_youngest_age',
        (
            select count(*) from drugs
            where pediatric_youngest_age_years is not null
        ),
        (select drugs from totals),
        'Drugs whose pediatric-use text states an age range'
    union all
    select
        23,
        'drugs_with_geriatric_use',
        (
            select count(*) from drugs
            where has_geriatric_use
        ),
        (select drugs from totals),
        'Drugs with geriatric-use text'
    union all
    select
        24,
        'mean_confidence_score',
        (select round(avg(confidence_score), 2) from drugs),
        null,
        'Mean confidence_score over drugs'
),

final as (
    select
        cast(metrics.position as integer) as position,
        metrics.metric,
        cast(metrics.value as numeric) as value,
        metrics.out_of,
        case
            when metrics.out_of > 0 then round(metrics.value / metrics.out_of, 4)
        end as share,
        metrics.description,
        now() as built_at
    from metrics
)

select * from final
