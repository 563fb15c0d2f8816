"""The PLACES marts: real dbt on what the real extract landed from two real CSV exports of
CDC PLACES' County Data 2023 release (samples/cdcplaces/: Hawaii and Rhode Island)."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import query
from tests.extract.test_cdcplaces_exports import ROWS


def test_every_measure_of_the_release_reaches_the_marts(samples_database):
    database = samples_database("cdcplaces")  # both real exports landed and built

    assert query(
        database,
        "select geography, count(*), count(distinct location_id), count(distinct measure_id) "
        "from marts.places_measures group by 1",
    ) == [("county", 2 * ROWS, 10, 37)]
    assert query(
        database,
        "select state_name, location_name, category, measure, short_question_text, "
        "data_value, low_confidence_limit, high_confidence_limit, total_population, "
        "latitude is not null and longitude < 0 "
        "from marts.places_measures where location_id = '44007' and measure_id = 'STROKE' "
        "and data_value_type_id = 'CrdPrv' and data_year = 2021",
    ) == [
        (
            "Rhode Island",
            "Providence",
            "Health Outcomes",
            "Stroke among adults aged >=18 years",
            "Stroke",
            Decimal("3"),
            Decimal("2.7"),
            Decimal("3.5"),  # as in the export
            658221,
            True,
        )
    ]
    # county_health: one row per county and data year (the release mixes 2021 and 2020),
    # every measure of the release as columns; no ACS answer landed, so its side is empty.
    assert query(
        database,
        "select year, count(*), min(places_measure_count), max(places_measure_count), "
        "bool_and(has_places), bool_or(has_census) from marts.county_health "
        "group by year order by year",
    ) == [(2020, 10, 8, 8, True, False), (2021, 10, 29, 29, True, False)]
    assert query(
        database,
        "select county_name, state_abbreviation, stroke_prevalence, "
        "stroke_age_adjusted_prevalence, current_asthma_prevalence, "
        "current_asthma_age_adjusted_prevalence, population, adult_population "
        "from marts.county_health where county_fips = '44007' and year = 2021",
    ) == [
        (
            "Providence",
            "RI",
            Decimal("3"),
            Decimal("2.8"),
            Decimal("12.2"),
            Decimal("12.2"),
            None,
            None,
        )
    ]
    assert query(
        database,
        "select all_teeth_lost_prevalence from marts.county_health "
        "where county_fips = '44007' and year = 2020",
    ) == [(Decimal("9.3"),)]
