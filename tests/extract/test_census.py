"""Census ACS extract: the real dlt pipeline into a real PostgreSQL, the Census Data API
replayed over HTTP on 127.0.0.1. A real answer (the 2010 ACS 5-year B17001 table for every
state, captured in 2015) and the real 2019 variables list check the format and the
variables asked; county and tract answers are constructed in the same format (no real
county or tract answer has been found: see tests/fixtures/census/PROVENANCE.md)."""

from __future__ import annotations

import json
import logging
import time

import pytest
from werkzeug import Request, Response

from extract.census import settings as census_settings
from medmirror.settings import PROJECT_DIR, ConnectionInfo
from tests.conftest import error_response, land_source, query, sample

COUNTY_2022 = "census/acs5_2022_county_constructed.json"
TRACTS_2022 = {
    "01": "census/acs5_2022_tract_state01_constructed.json",
    "10": "census/acs5_2022_tract_state10_constructed.json",
}
RAGGED_2023 = "census/acs5_2023_county_ragged_row_constructed.json"


class CensusApi:
    """Replays `/data/<year>/acs/acs5`: answers by (year, geography, state), queued
    failures first; a vintage with no answer is 404 (not published)."""

    def __init__(self, httpserver) -> None:
        self.base = httpserver.url_for("/data")
        self.answers: dict[tuple[int, str, str | None], str] = {}
        self.failures: list[Response] = []
        self.requests: list[dict[str, str]] = []
        self.times: list[float] = []
        for year in (2021, 2022, 2023, 2024):
            httpserver.expect_request(f"/data/{year}/acs/acs5").respond_with_handler(
                lambda request, year=year: self._answer(year, request)
            )

    def _answer(self, year: int, request: Request) -> Response:
        args = dict(request.args)
        self.requests.append({"year": str(year), **args})
        self.times.append(time.monotonic())
        if self.failures:
            return self.failures.pop(0)
        geography = args["for"].split(":")[0]
        state = args["in"].split(":")[1] if "in" in args else None
        fixture = self.answers.get((year, geography, state))
        if fixture is None:
            return Response("error: unknown/unsupported geography hierarchy", status=404)
        return Response(sample(fixture), content_type="application/json;charset=utf-8")


@pytest.fixture
def census_api(httpserver, monkeypatch: pytest.MonkeyPatch) -> CensusApi:
    api = CensusApi(httpserver)
    monkeypatch.setenv("SOURCES__CENSUS__API_URL", api.base)
    monkeypatch.setenv("SOURCES__CENSUS__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("SOURCES__CENSUS__YEARS", "[2022]")
    monkeypatch.setenv("SOURCES__CENSUS__STATES", '["01", "10"]')
    monkeypatch.delenv("SOURCES__CENSUS__API_KEY", raising=False)
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "5")
    return api


def landed(connection: ConnectionInfo) -> list[tuple]:
    return query(
        connection,
        "select year, geography, geoid from raw_census.estimates order by 1, 2, 3",
    )


def test_counties_and_tracts_land_once_per_vintage(database, census_api: CensusApi, caplog):
    census_api.answers[(2022, "county", None)] = COUNTY_2022
    for state, fixture in TRACTS_2022.items():
        census_api.answers[(2022, "tract", state)] = fixture
    caplog.set_level(logging.INFO, logger="extract.census")

    result = land_source(database, "census")

    assert result.rows == {"estimates": 8}
    assert result.windows == 2  # counties, then tracts: each committed on its own
    assert [(r["for"], r.get("in")) for r in census_api.requests] == [
        ("county:*", None),
        ("tract:*", "state:01"),
        ("tract:*", "state:10"),
    ]
    assert census_api.requests[0]["get"] == (
        "NAME,B01003_001E,B09021_001E,B09021_022E,B19013_001E,B17001_001E,B17001_002E"
    )
    assert landed(database)[:5] == [
        (2022, "county", "01001"),
        (2022, "county", "01003"),
        (2022, "county", "10001"),
        (2022, "county", "10003"),
        (2022, "county", "15005"),
    ]
    assert (2022, "tract", "01001020100") in landed(database)
    (autauga,) = query(
        database,
        "select record ->> 'NAME', record ->> 'B19013_001E', source_uri "
        "from raw_census.estimates where geoid = '01001'",
    )
    assert autauga[:2] == ("Autauga County, Alabama", "68315")
    assert autauga[2].startswith(census_api.base + "/2022/acs/acs5?get=NAME")
    # No key configured: it runs keyless and says so plainly.
    assert "no API key configured (optional)" in caplog.text

    again = land_source(database, "census")  # the vintage has landed: nothing is asked
    assert again.total_rows == 0
    assert len(census_api.requests) == 3


def test_a_vintage_not_published_yet_is_skipped_and_the_rest_lands(
    database, census_api: CensusApi, monkeypatch
):
    monkeypatch.setenv("SOURCES__CENSUS__YEARS", "[2022, 2024]")
    monkeypatch.setenv("SOURCES__CENSUS__GEOGRAPHIES", '["county"]')
    census_api.answers[(2022, "county", None)] = COUNTY_2022

    result = land_source(database, "census")

    assert result.rows == {"estimates": 5}
    assert [r["year"] for r in census_api.requests] == ["2022", "2024"]
    land_source(database, "census")  # 2024 was asked today already: not again until tomorrow
    assert len(census_api.requests) == 2


def test_a_ragged_row_is_rejected_by_position_and_the_others_land(
    database, census_api: CensusApi, monkeypatch
):
    monkeypatch.setenv("SOURCES__CENSUS__YEARS", "[2023]")
    monkeypatch.setenv("SOURCES__CENSUS__GEOGRAPHIES", '["county"]')
    census_api.answers[(2023, "county", None)] = RAGGED_2023

    result = land_source(database, "census")

    assert result.rows == {"estimates": 2}
    assert result.rejected == 1
    ((where, problem),) = query(database, "select source_uri, problem from raw_census.rejects")
    assert where.endswith(" row 3")
    assert problem == "3 values for a header of 7"


def test_429_is_retried_and_the_key_is_sent_but_never_shown(
    database, census_api: CensusApi, monkeypatch
):
    monkeypatch.setenv("SOURCES__CENSUS__API_KEY", "census-secret-key")
    monkeypatch.setenv("SOURCES__CENSUS__GEOGRAPHIES", '["county"]')
    census_api.answers[(2022, "county", None)] = COUNTY_2022
    census_api.failures.append(error_response(429, {"Retry-After": "1"}))

    result = land_source(database, "census")

    assert result.rows == {"estimates": 5}
    assert len(census_api.requests) == 2
    assert census_api.times[1] - census_api.times[0] >= 0.95
    assert all(r["key"] == "census-secret-key" for r in census_api.requests)
    uris = {uri for (uri,) in query(database, "select source_uri from raw_census.estimates")}
    assert len(uris) == 1
    assert "census-secret-key" not in uris.pop()


STATE_2010 = (
    PROJECT_DIR / "tests" / "fixtures" / "census" / "acs5_2010_state_B17001_all_vcr2015.json"
)
VARIABLES_2019 = PROJECT_DIR / "tests" / "fixtures" / "census" / "acs5_2019_variables_used.json"


def test_a_real_answer_lands_one_row_per_state(database, httpserver, monkeypatch):
    # The Census Bureau's answer to /data/2010/acs5?get=B17001_001E..B17001_030E&for=state:*
    # as captured in 2015 (the old dataset path `acs5`, no NAME column).
    header = json.loads(STATE_2010.read_bytes())[0]
    httpserver.expect_request("/data/2010/acs5").respond_with_data(
        STATE_2010.read_bytes(), content_type="application/json;charset=utf-8"
    )
    monkeypatch.setenv("SOURCES__CENSUS__API_URL", httpserver.url_for("/data"))
    monkeypatch.setenv("SOURCES__CENSUS__REQUESTS_PER_SECOND", "0")
    monkeypatch.delenv("SOURCES__CENSUS__API_KEY", raising=False)

    result = land_source(
        database,
        "census",
        dataset="acs5",
        years=[2010],
        geographies=["state"],
        variables=header[:-1],
    )

    assert result.rows == {"estimates": 52}  # 50 states, DC and Puerto Rico
    assert result.rejected == 0
    assert httpserver.log[0][0].args["get"] == ",".join(header[:-1])
    assert httpserver.log[0][0].args["for"] == "state:*"
    ((alabama,),) = query(database, "select record from raw_census.estimates where geoid = '01'")
    assert (alabama["B17001_001E"], alabama["B17001_002E"]) == ("4596836", "786544")
    assert query(
        database, "select count(distinct geoid), min(geoid), max(geoid) from raw_census.estimates"
    ) == [(52, "01", "72")]


def test_every_variable_asked_is_one_the_acs_publishes():
    # The Census Bureau's own variables list of the ACS 5-year 2019 detailed tables
    # (api.census.gov/data/2019/acs/acs5/variables.json), cut to the variables medmirror
    # asks for (tests/fixtures/census/PROVENANCE.md says how).
    published = json.loads(VARIABLES_2019.read_bytes())["variables"]
    asked = [name for name in census_settings.VARIABLES if name != "NAME"]  # a pseudo-variable
    labels = {name: published[name]["label"] for name in asked}
    assert labels == {
        "B01003_001E": "Estimate!!Total",
        "B09021_001E": "Estimate!!Total:",
        "B09021_022E": "Estimate!!Total:!!65 years and over:",
        "B19013_001E": "Estimate!!Median household income in the past 12 months (in 2019 "
        "inflation-adjusted dollars)",
        "B17001_001E": "Estimate!!Total:",
        "B17001_002E": "Estimate!!Total:!!Income in the past 12 months below poverty level:",
    }
    assert published["B09021_001E"]["concept"] == (
        "LIVING ARRANGEMENTS OF ADULTS 18 YEARS AND OVER BY AGE"
    )


def catalog(*entries: tuple[list[str], int]) -> bytes:
    """The API's dataset list (https://api.census.gov/data.json) cut to the fields read:
    a minimal list derived from its DCAT layout (`dataset[]` with `c_dataset` and
    `c_vintage`; no real copy is held, see tests/fixtures/discovery/PROVENANCE.md)."""
    return json.dumps(
        {
            "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
            "@type": "dcat:Catalog",
            "dataset": [
                {
                    "c_vintage": vintage,
                    "c_dataset": parts,
                    "title": " ".join(parts),
                    "distribution": [
                        {"accessURL": f"https://api.census.gov/data/{vintage}/{'/'.join(parts)}"}
                    ],
                }
                for parts, vintage in entries
            ],
        }
    ).encode()


def test_a_new_vintage_on_the_dataset_list_lands_with_no_config_edit(
    database, census_api: CensusApi, httpserver, monkeypatch
):
    monkeypatch.delenv("SOURCES__CENSUS__YEARS", raising=False)
    monkeypatch.setenv("SOURCES__CENSUS__GEOGRAPHIES", '["county"]')
    census_api.answers[(2022, "county", None)] = COUNTY_2022
    census_api.answers[(2023, "county", None)] = RAGGED_2023
    listed = {
        "body": catalog(
            (["acs", "acs5"], 2018),  # before first_year (2019): not landed
            (["acs", "acs5"], 2022),
            (["acs", "acs1"], 2023),  # another dataset
            (["dec", "pl"], 2020),
        )
    }
    httpserver.expect_request("/data.json").respond_with_handler(
        lambda request: Response(listed["body"], content_type="application/json")
    )

    first = land_source(database, "census")
    listed["body"] = catalog((["acs", "acs5"], 2022), (["acs", "acs5"], 2023))  # 2023 is out
    second = land_source(database, "census")
    third = land_source(database, "census")

    assert first.rows == {"estimates": 5}
    assert second.rows["estimates"] > 0 and third.total_rows == 0
    assert sorted({row[0] for row in landed(database)}) == [2022, 2023]
    assert [request["year"] for request in census_api.requests] == ["2022", "2023"]


def test_a_dataset_list_naming_no_vintage_fails_naming_it(
    database, census_api, httpserver, monkeypatch
):
    monkeypatch.delenv("SOURCES__CENSUS__YEARS", raising=False)
    httpserver.expect_request("/data.json").respond_with_data(
        catalog((["acs", "acs1"], 2023)), content_type="application/json"
    )

    with pytest.raises(Exception, match=r"/data\.json: the dataset list names no acs/acs5 vintage"):
        land_source(database, "census")
