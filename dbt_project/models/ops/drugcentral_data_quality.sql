-- The DrugCentral data-quality summary (one row per check), read into the run summary.
{{ data_quality_check(
    'drugcentral', 'UNII well formed (10 characters)',
    "(select * from " ~ ref('drugcentral_identifiers') ~ " where identifier_type = 'UNII')",
    'identifier is not null', "identifier ~ '^[A-Z0-9]{10}$'",
) }}
union all
{{ data_quality_check(
    'drugcentral', 'target has gene and action type',
    ref('drugcentral_targets'),
    'gene_symbols is not null and action_type is not null', 'target_name is not null',
) }}
union all
{{ data_quality_check(
    'drugcentral', 'ingredient has a UNII',
    ref('drugcentral_drugs'),
    'cardinality(uniis) > 0', 'molecular_weight is null or molecular_weight >= 0',
) }}
