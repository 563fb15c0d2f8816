-- The ICD-10-CM data-quality summary (one row per check), read into the run summary. A code
-- lands as CMS writes it, whatever its shape: one of a shape nobody expected (CMS has
-- added categories unlike the older letter-digit-digit ones) is counted here, not dropped.
{{ data_quality_check(
    'icd10cm', 'code has the ICD-10-CM shape (letter, digit, then 1 to 5 letters or digits)',
    ref('icd10cm_codes'),
    'code is not null', "code ~ '^[A-Z][0-9][0-9A-Z]([0-9A-Z]{1,4})?$'",
) }}
union all
{{ data_quality_check(
    'icd10cm', 'code has a title',
    ref('icd10cm_codes'),
    'long_description is not null', "long_description <> ''",
) }}
