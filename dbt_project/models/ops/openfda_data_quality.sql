-- The openFDA data-quality summary (one row per check), read into the run summary. Every
-- record lands as openFDA wrote it: ids, versions and dates of a shape nobody expected are
-- counted here (and warned about by the staging tests), never dropped.
{{ data_quality_check(
    'openfda', 'label effective time read (YYYYMMDD)',
    ref('stg_openfda__labels'),
    'effective_time_text is not null', 'effective_date is not null',
) }}
union all
{{ data_quality_check(
    'openfda', 'label has an SPL id and a numeric version',
    ref('stg_openfda__labels'),
    'set_id is not null', 'spl_id is not null and version_number is not null',
) }}
union all
{{ data_quality_check(
    'openfda', 'label set id is a UUID',
    ref('stg_openfda__labels'),
    'set_id is not null',
    "set_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'",
) }}
union all
{{ data_quality_check(
    'openfda', 'product NDC shaped labeler-product (4-4, 5-3 or 5-4 digits)',
    ref('stg_openfda__ndc_products'),
    'product_ndc is not null', "product_ndc ~ '^([0-9]{4}-[0-9]{4}|[0-9]{5}-[0-9]{3,4})$'",
) }}
