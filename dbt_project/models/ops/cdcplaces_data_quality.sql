-- The CDC PLACES data-quality summary (one row per check), read into the run summary.
{{ data_quality_check(
    'cdcplaces', 'county prevalence within 0-100',
    ref('int_places_county_measures_current'),
    'data_value is not null', 'data_value between 0 and 100',
) }}
union all
{{ data_quality_check(
    'cdcplaces', 'county FIPS well formed (5 digits)',
    ref('int_places_county_measures_current'),
    'county_fips is not null', "county_fips ~ '^[0-9]{5}$'",
) }}
union all
{{ data_quality_check(
    'cdcplaces', 'estimate within its confidence limits',
    ref('int_places_county_measures_current'),
    'low_confidence_limit is not null and high_confidence_limit is not null',
    'data_value between low_confidence_limit and high_confidence_limit',
) }}
union all
{{ data_quality_check(
    'cdcplaces', 'county population non-negative',
    ref('int_places_county_measures_current'),
    'total_population is not null', 'total_population >= 0',
) }}
