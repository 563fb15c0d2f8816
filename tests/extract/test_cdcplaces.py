"""CDC PLACES extract: the real dlt pipeline into a real PostgreSQL, data.cdc.gov's Socrata
API replayed over HTTP on 127.0.0.1. Paging is checked on a real Socrata response
(tests/fixtures/cdcplaces/soda_page*.json, another dataset); PLACES' own rows are
constructed in the documented field set."""

from __future__ import annotations

import logging
import time

import pytest
from werkzeug import Request, Response

from extract.cdcplaces.helpers import socrata_pages
from extract.http import PublisherClient
from tests.conftest import error_response, land_source, query, sample

PAGES = [f"cdcplaces/places_county_page{n}_limit10_constructed.json" for n in (1, 2, 3)]
RELEASE1 = "cdcplaces/views_swc5-untb_release1_constructed.json"
RELEASE2 = "cdcplaces/views_swc5-untb_release2_constructed.json"
RELEASE2_ROWS = "cdcplaces/places_county_release2_constructed.json"


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
