"""The population, herb and DrugCentral marts: real dbt on what the real extracts landed
from the constructed fixtures (Census ACS, CDC PLACES, NCCIH pages, a DrugCentral slice)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flows.dbt_runner import DbtFailed, build_sources
from flows.search import search
from tests.conftest import build_models, land_source, query

# The fixtures the shared replays need, from the extract tests.
from tests.extract.test_cdcplaces import (
    PAGES,
    socrata,  # noqa: F401
)
from tests.extract.test_census import (
    COUNTY_2022,
    census_api,  # noqa: F401
)
from tests.extract.test_drugcentral import (
    drugcentral_db,  # noqa: F401
    land_drugcentral,
)
from tests.extract.test_nccih import (
    site,  # noqa: F401
)


def build(connection, *sources: str) -> None:
    build_sources(connection, sources)


@pytest.fixture
def population(database, census_api, socrata, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SOURCES__CENSUS__GEOGRAPHIES", '["county"]')
    census_api.answers[(2022, "county", None)] = COUNTY_2022
    socrata.pages += PAGES
    land_source(database, "census")
    land_source(database, "cdcplaces")
    build(database, "census", "cdcplaces")
    return database


def test_county_health_joins_places_and_acs_on_county_fips(population):
    rows = query(
        population,
        """
        select county_fips, year, county_name, diabetes_prevalence,
               diabetes_age_adjusted_prevalence, obesity_prevalence,
               high_blood_pressure_prevalence, population, median_household_income,
               poverty_rate, has_places, has_census
        from marts.county_health order by county_fips, year
        """,
    )
    # Checked by hand against the fixtures: PLACES 2022 (diabetes, obesity) and 2021
    # (high blood pressure) rows; ACS 2022 county rows (Autauga: 6384 / 57922 below the
    # poverty level = 11.02%). Kalawao has ACS only, its income an annotation value.
    assert rows == [
        (
            "01001", 2021, "Autauga", None, None, None, Decimal("40.3"),
            None, None, None, True, False,
        ),
        (
            "01001", 2022, "Autauga", Decimal("12.9"), Decimal("11.7"), Decimal("38.9"),
            None, 58761, 68315, Decimal("11.02"), True, True,
        ),
        (
            "01003", 2021, "Baldwin", None, None, None, Decimal("38.7"),
            None, None, None, True, False,
        ),
        (
            "01003", 2022, "Baldwin", Decimal("11.8"), Decimal("10.1"), Decimal("35.0"),
            None, 233420, 71039, Decimal("9.55"), True, True,
        ),
        (
            "10001", 2021, "Kent", None, None, None, Decimal("39.9"),
            None, None, None, True, False,
        ),
        (
            "10001", 2022, "Kent", Decimal("13.4"), Decimal("12.6"), Decimal("41.1"),
            None, 183643, 66250, Decimal("11.75"), True, True,
        ),
        (
            "10003", 2021, "New Castle", None, None, None, Decimal("34.6"),
            None, None, None, True, False,
        ),
        (
            "10003", 2022, "New Castle", Decimal("11.0"), Decimal("10.2"), Decimal("34.2"),
            None, 570719, 84538, Decimal("9.80"), True, True,
        ),
        ("15005", 2022, "Kalawao County", None, None, None, None, 43, None, None, False, True),
    ]  # fmt: skip
    summary = query(
        population,
        "select check_name, rows_checked, completeness, valid_share "
        "from ops.cdcplaces_data_quality order by check_name",
    )
    assert ("county prevalence within 0-100", 24, Decimal("1.0000"), Decimal("1.0000")) in summary
    assert query(
        population,
        "select rows_checked, rows_complete from ops.census_data_quality "
        "where check_name = 'county median household income non-negative'",
    ) == [(5, 4)]


def test_a_bad_row_fails_the_data_quality_tests_naming_it(population):
    # A prevalence over 100 and a 4-digit FIPS code, as a broken release could send them.
    conn = population.connect()
    with conn, conn.cursor() as cur:
        cur.execute(
            """
            insert into raw_cdcplaces.measures
                (geography, year, locationid, measureid, datavaluetypeid, record, source_uri,
                 deleted, _dlt_load_id, _dlt_id)
            values ('county', 2022, '1001', 'DIABETES', 'CrdPrv',
                    '{"year": "2022", "locationid": "1001", "measureid": "DIABETES",
                      "datavaluetypeid": "CrdPrv", "data_value": "140.5"}',
                    'test', false, '9999999999.1', 'bad-row')
            """
        )

    with pytest.raises(DbtFailed) as failure:
        build(population, "cdcplaces")

    message = str(failure.value)
    assert "values_between_county_health" in message  # the prevalences' bounds, one test
    assert "matches_pattern_county_health_county_fips" in message
    assert (
        "county_fips=1001, year=2022, column_name=diabetes_prevalence, failing_value=140.5"
        in message
    )
    assert query(
        population,
        "select rows_checked - rows_valid from ops.cdcplaces_data_quality "
        "where check_name = 'county FIPS well formed (5 digits)'",
    ) == [(1,)]


def test_herbs_are_searchable_by_a_word_of_their_uses(database, site):  # noqa: F811
    land_source(database, "nccih")
    build(database, "nccih")

    hits = search(database, "herbs", "sleeplessness", ["slug", "herb_name"])
    assert [hit["slug"] for hit in hits] == ["chamomile"]
    nausea = search(database, "herbs", "nausea", ["slug", "herb_name"])
    assert [hit["slug"] for hit in nausea] == ["ginger"]
    assert query(
        database,
        "select slug, latin_names, last_updated_date::text from marts.herbs order by slug",
    ) == [
        ("chamomile", ["Matricaria recutita", "Chamaemelum nobile"], "2020-05-01"),
        ("ginger", ["Zingiber officinale"], "2020-10-01"),
    ]
    indexes = query(
        database,
        "select indexdef from pg_indexes where schemaname = 'marts' and tablename = 'herbs'",
    )
    assert any("USING gin (search_vector" in definition for (definition,) in indexes)


def test_drugcentral_marts_are_keyed_for_a_join_by_unii(database, drugcentral_db):  # noqa: F811
    land_drugcentral(database, drugcentral_db)
    drugcentral_marts = ("drugcentral_drugs", "drugcentral_identifiers", "drugcentral_targets")
    build_models(
        database,
        *drugcentral_marts,
        "drugcentral_atc_codes",
        "drugcentral_releases",
        "drugcentral_data_quality",
        sources=["drugcentral"],
    )

    assert query(
        database,
        """
        select drugs.ingredient_name, targets.gene_symbols, targets.action_type
        from marts.drugcentral_identifiers as ids
        join marts.drugcentral_drugs as drugs on drugs.struct_id = ids.struct_id
        join marts.drugcentral_targets as targets on targets.struct_id = ids.struct_id
        where ids.identifier_type = 'UNII' and ids.identifier = 'WK2XYI10QM'
        order by 2
        """,
    ) == [("ibuprofen", "PTGS1", "INHIBITOR"), ("ibuprofen", "PTGS2", "INHIBITOR")]
    assert query(
        database,
        "select uniis, rxnorm_cuis, atc_codes, target_count from marts.drugcentral_drugs "
        "where ingredient_name = 'ibuprofen'",
    ) == [(["WK2XYI10QM"], ["5640"], ["C01EB16", "M01AE01"], 2)]
    assert query(
        database,
        "select level4_name from marts.drugcentral_atc_codes where atc_code = 'C10AA05'",
    ) == [("HMG CoA reductase inhibitors",)]
    ((licence, attribution),) = query(
        database, "select licence, attribution from marts.drugcentral_releases where is_current"
    )
    assert licence == "CC BY-SA 4.0" and attribution.startswith("DrugCentral")
    assert query(
        database,
        "select check_name, valid_share from ops.drugcentral_data_quality "
        "where left(check_name, 4) = 'UNII'",
    ) == [("UNII well formed (10 characters)", Decimal("1.0000"))]
