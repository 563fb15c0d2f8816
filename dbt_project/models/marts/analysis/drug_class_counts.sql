-- One row per drug: how many therapeutic classes it has, by type, and how many of them
-- it shares with other drugs.

with

drugs as (
    select * from {{ ref('drugs') }}
),

drug_classes as (
    select * from {{ ref('drug_classes') }}
),

classes as (
    select * from {{ ref('pharmacologic_classes') }}
),

counted as (
    select
        drug_classes.drug_id,
        count(*) as class_count,
        count(*) filter (where drug_classes.class_type = 'EPC') as epc_class_count,
        count(*) filter (where drug_classes.class_type = 'MoA') as moa_class_count,
        count(*) filter (where drug_classes.class_type = 'PE') as pe_class_count,
        count(*) filter (where drug_classes.class_type = 'CS') as cs_class_count,
        count(*) filter (where drug_classes.class_type = 'ATC') as atc_class_count,
        count(*) filter (where classes.drug_count > 1) as shared_class_count
    from drug_classes
    inner join classes
        on drug_classes.class_type || ':'
        || coalesce(drug_classes.class_code, drug_classes.class_name)
        = classes.pharmacologic_class_id
    group by drug_classes.drug_id
),

final as (
    select
        drugs.drug_id,
        drugs.generic_name,
        drugs.brand_names,
        coalesce(counted.class_count, 0) as class_count,
        coalesce(counted.epc_class_count, 0) as epc_class_count,
        coalesce(counted.moa_class_count, 0) as moa_class_count,
        coalesce(counted.pe_class_count, 0) as pe_class_count,
        coalesce(counted.cs_class_count, 0) as cs_class_count,
        coalesce(counted.atc_class_count, 0) as atc_class_count,
        coalesce(counted.shared_class_count, 0) as shared_class_count
    from drugs
    left join counted on drugs.drug_id = counted.drug_id
)

select * from final
