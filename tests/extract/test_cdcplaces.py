"""CDC PLACES extract: the real dlt pipeline into a real PostgreSQL, data.cdc.gov's Socrata
API replayed over HTTP on 127.0.0.1. Paging is checked on a real Socrata response
(tests/fixtures/cdcplaces/soda_page*.json, another dataset); PLACES' own rows are
constructed in the documented field set."""

from __future__ import annotations

import logging
import re
import time

import pytest
from werkzeug import Request, Response

from extract.cdcplaces.catalog import newest_releases
from extract.cdcplaces.helpers import socrata_pages
from extract.http import PublisherClient
from tests.conftest import error_response, land_source, query, sample

PAGES = [f"cdcplaces/places_county_page{n}_limit10_constructed.json" for n in (1, 2, 3)]
RELEASE1 = "cdcplaces/views_swc5-untb_release1_constructed.json"
RELEASE2 = "cdcplaces/views_swc5-untb_release2_constructed.json"
RELEASE2_ROWS = "cdcplaces/places_county_release2_constructed.json"
# Socrata's Discovery API: a real answer (no PLACES dataset in it) and the PLACES releases
# derived from its data.cdc.gov result (tests/fixtures/cdcplaces/PROVENANCE.md).
CATALOG_REAL = "cdcplaces/socrata_catalog_v1_real.json"
CATALOG_2023 = "cdcplaces/socrata_catalog_places_2023_derived.json"
CATALOG_2024 = "cdcplaces/socrata_catalog_places_2024_derived.json"


class SocrataApi:
    """Replays `/resource/<id>.json` (pages queued in order) and `/api/views/<id>.json`."""

    def __init__(self, httpserver, dataset: str = "swc5-untb") -> None:
        self.base = httpserver.url_for("").rstrip("/")
        self.pages: list[Response | str] = []
        self.metadata = RELEASE1
        self.requests: list[dict[str, str]] = []
        self.headers: list[dict[str, str]] = []
        self.times: list[float] = []
        httpserver.expect_request(f"/resource/{dataset}.json").respond_with_handler(self._page)
        httpserver.expect_request(f"/api/views/{dataset}.json").respond_with_handler(
            lambda request: Response(sample(self.metadata), content_type="application/json")
        )

    def _page(self, request: Request) -> Response:
        self.requests.append(dict(request.args))
        self.headers.append(dict(request.headers))
        self.times.append(time.monotonic())
        if not self.pages:
            return Response("no page queued", status=500)
        page = self.pages.pop(0)
        if isinstance(page, Response):
            return page
        return Response(sample(page), content_type="application/json;charset=utf-8")


@pytest.fixture
def socrata(httpserver, monkeypatch: pytest.MonkeyPatch) -> SocrataApi:
    api = SocrataApi(httpserver)
    monkeypatch.setenv("SOURCES__CDCPLACES__BASE_URL", api.base)
    monkeypatch.setenv("SOURCES__CDCPLACES__DATASETS", '{"county": "swc5-untb"}')
    monkeypatch.setenv("SOURCES__CDCPLACES__PAGE_SIZE", "10")
    monkeypatch.setenv("SOURCES__CDCPLACES__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("SOURCES__CDCPLACES__REQUESTS_PER_SECOND_WITH_KEY", "0")
    monkeypatch.delenv("SOURCES__CDCPLACES__API_KEY", raising=False)
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "5")
    return api


def test_real_socrata_pages_are_followed_until_a_short_page(socrata: SocrataApi):
    socrata.pages += ["cdcplaces/soda_page1_offset0.json", "cdcplaces/soda_page2_offset1000.json"]
    client = PublisherClient("cdcplaces")

    pages = list(
        socrata_pages(
            client,
            f"{socrata.base}/resource/swc5-untb.json",
            params={},
            page_size=1000,
            what="bike counts",
        )
    )

    assert [(offset, len(rows)) for offset, _, rows in pages] == [(0, 1000), (1000, 1)]
    assert [(r["$offset"], r["$limit"], r["$order"]) for r in socrata.requests] == [
        ("0", "1000", ":id"),
        ("1000", "1000", ":id"),
    ]
    assert pages[1][2] == [
        {"id": "100009424", "date": "2016-10-02T01:45:00.000", "counts": "3", "status": "0"}
    ]


def test_measures_land_page_by_page_and_an_unchanged_release_is_not_asked(
    database, socrata: SocrataApi, caplog
):
    socrata.pages += PAGES
    caplog.set_level(logging.INFO, logger="extract.cdcplaces")

    result = land_source(database, "cdcplaces")

    assert result.rows == {"measures": 24}
    assert [r["$offset"] for r in socrata.requests] == ["0", "10", "20"]
    assert {r["$where"] for r in socrata.requests} == {"year >= '2017'"}
    assert "no app token configured (optional)" in caplog.text
    assert query(
        database,
        "select year, datavaluetypeid, record ->> 'data_value', record ->> 'locationname' "
        "from raw_cdcplaces.measures where locationid = '01001' and measureid = 'DIABETES' "
        "order by 2",
    ) == [(2022, "AgeAdjPrv", "11.7", "Autauga"), (2022, "CrdPrv", "12.9", "Autauga")]

    again = land_source(database, "cdcplaces")  # rowsUpdatedAt unchanged: no page is asked
    assert again.total_rows == 0
    assert len(socrata.requests) == 3

    # A new release: asked from the newest year landed on, a row without its key rejected.
    socrata.metadata = RELEASE2
    socrata.pages.append(RELEASE2_ROWS)
    third = land_source(database, "cdcplaces")
    assert socrata.requests[-1]["$where"] == "year >= '2022'"
    assert third.rows == {"measures": 2}
    assert third.rejected == 1
    ((problem,),) = query(database, "select problem from raw_cdcplaces.rejects")
    assert problem == "a row without locationid"


def test_each_window_is_committed_and_a_rerun_resumes_at_the_next_page(
    database, socrata: SocrataApi, monkeypatch
):
    monkeypatch.setenv("SOURCES__CDCPLACES__PAGES_PER_WINDOW", "1")
    socrata.pages += [PAGES[0], error_response(404)]

    with pytest.raises(Exception, match="404"):
        land_source(database, "cdcplaces")
    assert query(database, "select count(*) from raw_cdcplaces.measures") == [(10,)]

    socrata.pages += PAGES[1:]
    result = land_source(database, "cdcplaces")
    assert [r["$offset"] for r in socrata.requests] == ["0", "10", "10", "20"]
    assert result.windows == 2
    assert query(database, "select count(*) from raw_cdcplaces.measures") == [(24,)]


def test_429_is_retried_and_the_app_token_goes_in_the_header(
    database, socrata: SocrataApi, monkeypatch
):
    monkeypatch.setenv("SOURCES__CDCPLACES__API_KEY", "places-app-token")
    socrata.pages += [error_response(429, {"Retry-After": "1"}), *PAGES]

    land_source(database, "cdcplaces")

    assert socrata.times[1] - socrata.times[0] >= 0.95
    assert all(headers.get("X-App-Token") == "places-app-token" for headers in socrata.headers)
    assert all("$$app_token" not in args for args in socrata.requests)
    assert query(database, "select count(*) from raw_cdcplaces.measures") == [(24,)]


def test_the_app_token_may_go_as_a_query_parameter_and_is_never_landed(
    database, socrata: SocrataApi, monkeypatch
):
    monkeypatch.setenv("SOURCES__CDCPLACES__API_KEY", "places-app-token")
    monkeypatch.setenv("SOURCES__CDCPLACES__API_KEY_HEADER", "")
    socrata.pages += PAGES

    land_source(database, "cdcplaces")

    assert all(args["$$app_token"] == "places-app-token" for args in socrata.requests)
    assert all("X-App-Token" not in headers for headers in socrata.headers)
    uris = query(database, "select distinct source_uri from raw_cdcplaces.measures")
    assert uris and all("places-app-token" not in uri for (uri,) in uris)


class SocrataCatalog:
    """Replays Socrata's Discovery API (`/api/catalog/v1`) as it is now: `answer` changes
    what it lists (a release published between two runs)."""

    def __init__(self, httpserver, answer: str) -> None:
        self.answer = answer
        self.url = httpserver.url_for("/api/catalog/v1")
        self.requests: list[dict[str, str]] = []
        httpserver.expect_request("/api/catalog/v1").respond_with_handler(self._answer)

    def _answer(self, request: Request) -> Response:
        self.requests.append(dict(request.args))
        return Response(sample(self.answer), content_type="application/json")


@pytest.fixture
def catalog(httpserver, monkeypatch: pytest.MonkeyPatch) -> SocrataCatalog:
    """The catalog listing CDC's 2023 releases, the source pointed at it and at the replayed
    data.cdc.gov for counties only (no `datasets` configured: the catalog decides)."""
    served = SocrataCatalog(httpserver, CATALOG_2023)
    monkeypatch.setenv("SOURCES__CDCPLACES__BASE_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("SOURCES__CDCPLACES__CATALOG_URL", served.url)
    monkeypatch.setenv("SOURCES__CDCPLACES__GEOGRAPHIES", '["county"]')
    monkeypatch.delenv("SOURCES__CDCPLACES__DATASETS", raising=False)
    monkeypatch.setenv("SOURCES__CDCPLACES__PAGE_SIZE", "10")
    monkeypatch.setenv("SOURCES__CDCPLACES__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("SOURCES__CDCPLACES__REQUESTS_PER_SECOND_WITH_KEY", "0")
    monkeypatch.delenv("SOURCES__CDCPLACES__API_KEY", raising=False)
    return served


def test_the_newest_release_of_each_geography_is_read_from_the_catalog(httpserver):
    served = SocrataCatalog(httpserver, CATALOG_2024)

    found = newest_releases(
        PublisherClient("cdcplaces"),
        served.url,
        domain="data.cdc.gov",
        query="PLACES: Local Data for Better Health",
        geographies=["county", "tract"],
    )

    # 2024 (named "County Data, 2024 release") over 2023 and 2022; the ZCTA and GIS
    # datasets and the catalog's other result are not county or tract releases.
    assert {geography: (r.year, r.dataset) for geography, r in found.items()} == {
        "county": (2024, "pl24-cnty"),
        "tract": (2023, "cwsq-ngmh"),
    }
    assert served.requests == [
        {
            "domains": "data.cdc.gov",
            "search_context": "data.cdc.gov",
            "q": "PLACES: Local Data for Better Health",
            "only": "dataset",
            "limit": "100",
            "offset": "0",
        }
    ]


def test_a_release_new_in_the_catalog_lands_on_the_next_run_with_no_config_edit(
    database, httpserver, catalog: SocrataCatalog
):
    current = SocrataApi(httpserver)  # swc5-untb, the 2023 release
    newer = SocrataApi(httpserver, dataset="pl24-cnty")
    current.pages += PAGES

    first = land_source(database, "cdcplaces")
    catalog.answer = CATALOG_2024  # CDC publishes the 2024 county release
    newer.metadata = RELEASE2
    newer.pages.append(RELEASE2_ROWS)
    second = land_source(database, "cdcplaces")
    third = land_source(database, "cdcplaces")  # the catalog unchanged: nothing asked

    assert first.rows == {"measures": 24}
    assert second.rows == {"measures": 2} and second.rejected == 1
    assert third.total_rows == 0
    assert len(current.requests) == 3  # the 2023 release is not asked again
    assert [r["$where"] for r in newer.requests] == ["year >= '2022'"]  # from the year landed
    assert len(catalog.requests) == 3  # once a run (one window each)


def test_a_catalog_listing_no_places_release_is_an_error_naming_it(
    database, httpserver, catalog: SocrataCatalog, monkeypatch
):
    catalog.answer = CATALOG_REAL  # a real catalog answer: no PLACES dataset in it

    with pytest.raises(Exception, match=re.escape(catalog.url)) as failure:
        land_source(database, "cdcplaces")

    assert (
        "lists no 'PLACES: Local Data for Better Health, County Data <year> release' dataset"
        in str(failure.value)
    )

    # A configured `datasets` wins (a site without the catalog): it is not asked.
    monkeypatch.setenv("SOURCES__CDCPLACES__DATASETS", '{"county": "swc5-untb"}')
    SocrataApi(httpserver).pages += PAGES
    assert land_source(database, "cdcplaces").rows == {"measures": 24}
    assert len(catalog.requests) == 1
