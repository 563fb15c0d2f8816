-- The NCCIH herbs data-quality summary (one row per check), read into the run summary.
{{ data_quality_check(
    'nccih', 'fact sheet has uses and safety',
    ref('herbs'),
    'uses is not null and safety is not null', 'herb_name is not null',
) }}
union all
{{ data_quality_check(
    'nccih', 'fact sheet names a Latin name',
    ref('herbs'),
    'cardinality(latin_names) > 0', 'cardinality(latin_names) > 0',
) }}
