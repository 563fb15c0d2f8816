-- The DailyMed data-quality summary (one row per check), read into the run summary. Every
-- label lands as its SPL says: ids and codes of a shape nobody expected are counted here
-- (and warned about by the staging and mart tests), never dropped. The products are read
-- from `int_dailymed_product_versions` (the same rows, out of their documents once).
{{ data_quality_check(
    'dailymed', 'label set id is a UUID',
    ref('stg_dailymed__labels'),
    'set_id is not null',
    "set_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'",
) }}
union all
{{ data_quality_check(
    'dailymed', 'product NDC shaped labeler-product (4-4, 5-3 or 5-4 digits)',
    ref('int_dailymed_product_versions'),
    'ndc_product_code is not null',
    "ndc_product_code ~ '^([0-9]{4}-[0-9]{4}|[0-9]{5}-[0-9]{3,4})$'",
) }}
union all
{{ data_quality_check(
    'dailymed', 'pharmacologic class type EPC, MoA, PE or CS',
    ref('stg_dailymed__pharmacologic_classes'),
    'class_type is not null', "class_type in ('EPC', 'MoA', 'PE', 'CS')",
) }}
