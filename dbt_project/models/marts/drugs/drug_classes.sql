-- One row per therapeutic class of each drug: established pharmacologic class (EPC),
-- mechanism of action (MoA), physiologic effect (PE), chemical structure (CS) and ATC
-- class, from FDA's pharmacologic-class indexing SPLs in DailyMed (by the drug's active
-- moiety UNIIs: a combination has each ingredient's classes), the `pharm_class_*`
-- fields of linked openFDA labels and NDC listings, and RxClass answers (RxNav) for the
-- drug's RxNorm ids. One class named by several sources is one row with all of them.

{{ config(
    indexes=[
        {'columns': ['drug_class_id'], 'unique': True},
        {'columns': ['drug_id']},
    ],
) }}

with

products as (
    select * from {{ ref('int_drug_products_unioned') }}
),

links as (
    select * from {{ ref('int_drug_labels_linked') }}
),

rxcuis as (
    select * from {{ ref('int_drug_rxcuis') }}
),

indexing as (
    select
        substance_unii,
        class_code,
        class_name,
        class_type
    from {{ ref('int_dailymed_pharmacologic_classes_current') }}
),

openfda_labels as (
    select
        set_id,
        pharm_classes_epc,
        pharm_classes_moa,
        pharm_classes_pe,
        pharm_classes_cs
    from {{ ref('int_openfda_labels_current') }}
    where not is_deleted
),

ndc_products as (
    select
        product_id,
        pharm_classes
    from {{ ref('int_openfda_ndc_current') }}
    where not is_deleted
),

rxclass as (
    select
        rxcui,
        class_id,
        class_name,
        class_type
    from {{ ref('stg_rxnav__drug_classes') }}
),

drug_keys as (
    select distinct
        drug_id,
        ingredient_key
    from products
    where drug_id is not null
    union
    select distinct
        drug_id,
        ingredient_key
    from links
),

moieties as (
    select
        drug_keys.drug_id,
        moiety.unii
    from drug_keys
    cross join lateral unnest(string_to_array(drug_keys.ingredient_key, '+')) as moiety (unii)
    where moiety.unii not like 'name:%'
),

from_indexing as (
    select
        moieties.drug_id,
        indexing.class_type,
        indexing.class_name,
        indexing.class_code,
        'dailymed' as source
    from indexing
    inner join moieties on indexing.substance_unii = moieties.unii
),

-- openFDA writes a class as "Name [EPC]" ("[Chemical/Ingredient]" for CS).
openfda_named as (
    select
        links.drug_id,
        class.value as named_class
    from links
    inner join openfda_labels on links.set_id = openfda_labels.set_id
    cross join
        lateral unnest(
            openfda_labels.pharm_classes_epc || openfda_labels.pharm_classes_moa
            || openfda_labels.pharm_classes_pe || openfda_labels.pharm_classes_cs
        ) as class (value)
    union all
    select
        products.drug_id,
        class.value
    from products
    inner join ndc_products
        on products.product_record_id = 'openfda:' || ndc_products.product_id
    cross join lateral unnest(ndc_products.pharm_classes) as class (value)
    where products.drug_id is not null
),

from_openfda as (
    select
        drug_id,
        case substring(named_class from '\[([^\]]+)\]\s*$')
            when 'EPC' then 'EPC'
            when 'MoA' then 'MoA'
            when 'PE' then 'PE'
            when 'Chemical/Ingredient' then 'CS'
        end as class_type,
        trim(regexp_replace(named_class, '\s*\[[^\]]+\]\s*$', '')) as class_name,
        cast(null as text) as class_code,
        'openfda' as source
    from openfda_named
),

from_rxclass as (
    select
        rxcuis.drug_id,
        case
            when rxclass.class_type = 'EPC' then 'EPC'
            when upper(rxclass.class_type) = 'MOA' then 'MoA'
            when rxclass.class_type = 'PE' then 'PE'
            when rxclass.class_type = 'CHEM' then 'CS'
            when rxclass.class_type like 'ATC%' then 'ATC'
        end as class_type,
        rxclass.class_name,
        rxclass.class_id as class_code,
        'rxnav' as source
    from rxclass
    inner join rxcuis on rxclass.rxcui = rxcuis.rxcui
),

unioned as (
    select * from from_indexing
    union all
    select * from from_openfda
    union all
    select * from from_rxclass
),

merged as (
    select
        {{ drug_id("drug_id || '|' || class_type || '|' || lower(class_name)") }}
            as drug_class_id,
        drug_id,
        class_type,
        min(class_name) as class_name,
        min(class_code) as class_code,
        array_agg(distinct source order by source) as sources
    from unioned
    where class_type is not null and class_name is not null and class_name <> ''
    group by drug_id, class_type, lower(class_name)
)

select * from merged
