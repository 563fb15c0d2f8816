-- The Census ACS data-quality summary (one row per check), read into the run summary.
{{ data_quality_check(
    'census', 'county population non-negative',
    ref('int_census_county_estimates_current'),
    'total_population is not null', 'total_population >= 0',
) }}
union all
{{ data_quality_check(
    'census', 'county median household income non-negative',
    ref('int_census_county_estimates_current'),
    'median_household_income is not null', 'median_household_income >= 0',
) }}
union all
{{ data_quality_check(
    'census', 'county poverty rate within 0-100',
    ref('int_census_county_estimates_current'),
    'poverty_rate is not null', 'poverty_rate between 0 and 100',
) }}
union all
{{ data_quality_check(
    'census', 'GEOID well formed (5 or 11 digits)',
    ref('stg_census__estimates'),
    'geoid is not null', "geoid ~ '^([0-9]{5}|[0-9]{11})$'",
) }}
