"""FoodData Central extract: the real dlt pipeline into a real PostgreSQL, from real API
answers served over HTTP on 127.0.0.1 (the search page split in two by
tests/fixtures/fooddata/derived/derive.py) and from the download constructed from them
(samples/fooddata/)."""

from __future__ import annotations

import json
import logging
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest
from werkzeug import Request, Response

from extract.bulk import Outcome
from flows.dbt_runner import build_sources
from medmirror.settings import SAMPLES_DIR, ConnectionInfo
from tests.conftest import DERIVED, land_source, query
from tests.extract.legacy_state import write_legacy_state

DOWNLOAD = SAMPLES_DIR / "fooddata" / "FoodData_Central_constructed_food_json_2026-07-03.zip"
FIXTURES = DERIVED / "fooddata"
KEY = "fdc-test-key-5d1e9a"


def build(connection: ConnectionInfo) -> None:
    build_sources(connection, ["fooddata"])


class FoodsApi:
    """Replays `/fdc/v1/foods/search` (by pageNumber) and `/fdc/v1/food/{id}`."""

    def __init__(self, httpserver) -> None:
        self.url = httpserver.url_for("/fdc/v1")
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.keys: list[str | None] = []  # the X-Api-Key header of each request
        self.failures: list[Response] = []  # answered first, one per request
        httpserver.expect_request("/fdc/v1/foods/search").respond_with_handler(self._search)
        httpserver.expect_request("/fdc/v1/food/170720").respond_with_handler(self._bigmac)
        httpserver.expect_request("/fdc/v1/food/328637").respond_with_handler(self._abridged)

    def _log(self, request: Request) -> Response | None:
        self.requests.append((request.path, dict(request.args)))
        self.keys.append(request.headers.get("X-Api-Key"))
        return self.failures.pop(0) if self.failures else None

    def _search(self, request: Request) -> Response:
        failed = self._log(request)
        if failed:
            return failed
        page = int(request.args["pageNumber"])
        return _json((FIXTURES / "derived" / f"search_page{page}_of2.json").read_bytes())

    def _bigmac(self, request: Request) -> Response:
        return self._log(request) or _json((FIXTURES / "food_bigmac_2019_full.json").read_bytes())

    def _abridged(self, request: Request) -> Response:
        failed = self._log(request)
        if failed:
            return failed
        if request.args.get("format") != "abridged":  # as FDC answers for this id
            return Response('{"error": "not found"}', status=404)
        return _json((FIXTURES / "food_328637_abridged.json").read_bytes())


def _json(body: bytes) -> Response:
    return Response(body, content_type="application/json")


@pytest.fixture
def foods_api(httpserver, monkeypatch: pytest.MonkeyPatch) -> FoodsApi:
    monkeypatch.setenv("SOURCES__FOODDATA__API_KEY", KEY)
    monkeypatch.setenv("SOURCES__FOODDATA__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "10")
    return FoodsApi(httpserver)


def test_search_pages_land_with_the_key_sent_never_logged_and_429_retried(
    database, foods_api: FoodsApi, caplog
):
    foods_api.failures.append(Response("slow down", status=429, headers={"Retry-After": "0"}))
    caplog.set_level(logging.DEBUG)

    result = land_source(database, "fooddata", api_url=foods_api.url, start_date="2021-01-01")

    assert result.rows == {"foods": 10}
    assert result.windows == 2  # one committed window per page
    searches = [args for path, args in foods_api.requests if path.endswith("/search")]
    assert [args["pageNumber"] for args in searches] == ["1", "1", "2"]  # the 429, again
    assert foods_api.keys == [KEY] * 3  # in api.data.gov's header, not in the URL
    assert not any("api_key" in args for args in searches)
    assert searches[0]["sortBy"] == "publishedDate"
    assert searches[0]["sortOrder"] == "desc"
    assert KEY not in caplog.text
    assert query(
        database, "select count(*) from raw_fooddata.foods where source_uri like %s", f"%{KEY}%"
    ) == [(0,)]
    assert query(
        database,
        "select fdc_id, published_date, data_type, record_format, record ->> 'brandOwner' "
        "from raw_fooddata.foods where fdc_id = 2057648",
    ) == [(2057648, date(2021, 10, 28), "Branded", "search", "Grafton Village Cheese Co, LLC")]
    recorded = json.loads((FIXTURES / "foods_search_cheddar_page1.json").read_bytes())
    (landed,) = query(database, "select record from raw_fooddata.foods where fdc_id = 2057648")
    assert landed[0] == recorded["foods"][0]  # the record unchanged

    # The next run starts from the cursor (newest publishedDate, less a day): page 1 is
    # all newer, page 2 reaches an older food (2021-07-29), which ends the sweep.
    foods_api.requests.clear()
    again = land_source(database, "fooddata", api_url=foods_api.url)
    # Page 1 again (the overlap day): the same versions, kept once in raw.
    assert again.rows == {"foods": 0}
    assert again.repeated == {"foods": 9}
    assert [args["pageNumber"] for _, args in foods_api.requests] == ["1", "2"]


def test_full_search_pages_land_whole(database, foods_api: FoodsApi):
    """The replayed pages (FDC's real page of 10 foods split in two, derived) hold 5 foods
    each: asked with pageSize=5, as a real sweep asks, every page is full, and each of its
    foods lands (a batch as long as the page was once handed back and dropped)."""
    result = land_source(
        database, "fooddata", api_url=foods_api.url, start_date="2021-01-01", page_size=5
    )

    assert result.rows == {"foods": 10}
    assert query(database, "select count(distinct fdc_id) from raw_fooddata.foods") == [(10,)]


def test_without_a_key_the_api_is_skipped_with_a_clear_message(
    database, httpserver, monkeypatch, caplog
):
    monkeypatch.delenv("SOURCES__FOODDATA__API_KEY", raising=False)
    monkeypatch.setenv("SOURCES__FOODDATA__API_KEY", "")
    caplog.set_level(logging.WARNING)

    result = land_source(
        database, "fooddata", api_url=httpserver.url_for("/fdc/v1"), fdc_ids=[170720]
    )

    assert result.total_rows == 0
    assert httpserver.log == []  # nothing asked without a key
    assert "needs an api.data.gov key" in caplog.text
    assert "[sources.fooddata]" in caplog.text


def test_details_land_full_and_abridged_records_with_their_nutrients(database, foods_api):
    foods_api.failures.append(Response("busy", status=503))

    result = land_source(
        database,
        "fooddata",
        api_url=foods_api.url,
        start_date="2030-01-01",
        fdc_ids=[170720, 328637],
    )

    assert result.rows == {"foods": 2 + 0}  # the search finds nothing that new
    assert query(
        database,
        "select fdc_id, record_format, published_date, jsonb_array_length(record -> "
        "'foodNutrients') from raw_fooddata.foods order by fdc_id",
    ) == [(170720, "full", date(2019, 4, 1), 40), (328637, "abridged", date(2019, 4, 1), 105)]


def test_the_download_streams_each_file_once_and_a_bad_food_is_rejected(database, tmp_path: Path):
    result = land_source(database, "fooddata", bulk_location=str(DOWNLOAD))

    assert result.rows == {"foods": 12}
    assert result.windows == 3  # one window per file
    assert result.rejected == 0
    assert query(
        database, "select data_type, count(*) from raw_fooddata.foods group by 1 order by 1"
    ) == [("Branded", 10), ("Foundation", 1), ("SR Legacy", 1)]
    assert land_source(database, "fooddata", bulk_location=str(DOWNLOAD)).total_rows == 0

    broken = tmp_path / "FoodData_Central_branded_food_json_broken.json"
    with zipfile.ZipFile(DOWNLOAD) as archive:
        text = archive.read("branded_food_json_constructed.json")
    foods = json.loads(text)["BrandedFoods"]
    del foods[1]["fdcId"]
    body = json.dumps({"BrandedFoods": foods}).encode()
    broken.write_bytes(body[: len(body) - 5000])  # cut inside the last foods
    more = land_source(database, "fooddata", bulk_location=str(broken))
    assert more.rejected == 2
    problems = [row[0] for row in query(database, "select problem from raw_fooddata.rejects")]
    assert any(problem.startswith("a food without an fdcId") for problem in problems)
    assert any(problem.startswith("not valid JSON after food") for problem in problems)
    # The foods read before the cut are the versions the download landed: kept once.
    assert more.rows == {"foods": 0}
    assert 0 < more.repeated["foods"] < 9


def test_every_file_offered_is_accounted_for(database, tmp_path: Path):
    folder = tmp_path / "fooddata"
    folder.mkdir()
    shutil.copyfile(DOWNLOAD, folder / DOWNLOAD.name)
    (folder / "README.txt").write_text("FoodData Central downloads, April release\n")
    # Another publisher's JSON (an openFDA partition, {"meta": ..., "results": [...]}).
    shutil.copyfile(
        SAMPLES_DIR / "openfda" / "constructed-drug-label-0001-of-0001.json.zip",
        folder / "drug-label-0001-of-0001.json.zip",
    )
    # A saved API answer (the real food detail of FDC id 328637): foods by their fdcId.
    shutil.copyfile(FIXTURES / "food_328637_abridged.json", folder / "food_328637.json")

    result = land_source(database, "fooddata", bulk_location=str(folder))

    outcomes = {uri.split("/")[-1]: found.outcome for uri, found in result.files.files.items()}
    assert outcomes == {
        f"{DOWNLOAD.name}!branded_food_json_constructed.json": Outcome.LANDED,
        f"{DOWNLOAD.name}!foundation_food_json_constructed.json": Outcome.LANDED,
        f"{DOWNLOAD.name}!sr_legacy_food_json_constructed.json": Outcome.LANDED,
        "README.txt": Outcome.NOT_RELEASE_FILE,
        "drug-label-0001-of-0001.json.zip!drug-label-0001-of-0001.json": (Outcome.NOT_RELEASE_FILE),
        "food_328637.json": Outcome.LANDED,
    }
    # Food 328637 is in the download too, the same version: raw keeps it once.
    assert result.rows == {"foods": 12}
    assert result.repeated == {"foods": 1}

    again = land_source(database, "fooddata", bulk_location=str(folder))

    assert again.total_rows == 0
    assert again.files.count(Outcome.ALREADY_LANDED) == 4


def test_an_upgrade_keeps_the_files_the_older_ledger_landed(database):
    # The state medmirror's own FoodData ledger kept before BulkLedger: the file names.
    write_legacy_state(
        database,
        "fooddata",
        "foods_bulk",
        {"landed_files": ["branded_food_json_constructed.json"]},
    )

    result = land_source(database, "fooddata", bulk_location=str(DOWNLOAD))

    assert result.rows == {"foods": 2}  # the Foundation and SR Legacy files only
    assert result.files.count(Outcome.ALREADY_LANDED) == 1
