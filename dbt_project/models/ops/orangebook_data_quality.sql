-- The Orange Book data-quality summary (one row per check), read into the run summary.
-- Every value lands as FDA wrote it: one of a shape nobody expected is counted here (and
-- warned about by the marts' tests), never dropped.
{{ data_quality_check(
    'orangebook', 'product id shaped N/A, 6-digit application, 3-digit product',
    ref('orange_book_products'),
    'product_id is not null', "product_id ~ '^[AN][0-9]{6}-[0-9]{3}$'",
) }}
union all
{{ data_quality_check(
    'orangebook', 'marketing status RX, OTC or DISCN',
    ref('orange_book_products'),
    'marketing_status is not null', "marketing_status in ('RX', 'OTC', 'DISCN')",
) }}
union all
{{ data_quality_check(
    'orangebook', 'TE code shaped like AB or BX (comma-separated)',
    ref('orange_book_products'),
    'te_code is not null', "te_code ~ '^[AB][A-Z][0-9]*(,[AB][A-Z][0-9]*)*$'",
) }}
union all
{{ data_quality_check(
    'orangebook', 'approval date read (a date, or approved before 1982)',
    ref('orange_book_products'),
    'approval_date is not null or is_approved_before_1982',
    'approval_date is not null or is_approved_before_1982',
) }}
union all
{{ data_quality_check(
    'orangebook', 'patent number shaped (letters, digits, *PED)',
    ref('orange_book_patents'),
    'patent_no is not null', "patent_no ~ '^[A-Z]*[0-9]+(\\*PED)?$'",
) }}
union all
{{ data_quality_check(
    'orangebook', 'exclusivity code shaped (letters, *, -number)',
    ref('orange_book_exclusivities'),
    'exclusivity_code is not null', "exclusivity_code ~ '^[A-Z]+\\*?(-[0-9]+)?$'",
) }}
