"""RxNav extract: the real dlt pipeline into a real PostgreSQL, asking a replay of RxNav on
127.0.0.1 (real RxNav answers from tests/fixtures/rxnav/, constructed ones where NLM's
documentation is all there is: see its PROVENANCE.md) about the NDCs and names the drug
sources landed: the real Orange Book, DailyMed and openFDA samples through the one dbt
view RxNav reads (`staging.int_rxnav_lookups`), or that view replaced by a table holding
values of the replay."""

from __future__ import annotations

import json
import re
from pathlib import Path

import orjson
import pytest
from werkzeug import Request, Response

from extract.errors import PublisherUnavailable
from extract.rxnav import rxnav
from medmirror.settings import SAMPLES_DIR, ConnectionInfo
from tests.conftest import DERIVED, land_source, query
from tests.extract.test_orangebook import EXCERPT

FIXTURES = DERIVED / "rxnav"
NDC_FILES = {"0781-1506-10": "rxnorm_rxcui_by_ndc.json"}
NAME_FILES = {
    ("ketotifen fumarate", "2"): "rxcui_by_name_ketotifen_fumarate.constructed.json",
    ("zyrtec itchy eye", "2"): "rxcui_by_name_zyrtec_itchy_eye.constructed.json",
}
RELATED_FILES = {"866350": "rxnorm_allrelated.json"}
CLASS_FILES = {
    ("866350", "DAILYMED"): "rxclass_by_rxcui_866350_dailymed.constructed.json",
    ("866350", "ATC"): "rxclass_by_rxcui_866350_atc.constructed.json",
}
RELATED_PATH = re.compile(r"^/REST/rxcui/(\d+)/allrelated\.json$")
THROTTLED = "Too Many Requests"  # RxNav's body when it throttles with HTTP 200


class RxNavReplay:
    """Answers RxNav's lookups from the fixtures and records each request as a lookup
    (`("ndc", id)`, `("name", name, search)`, `("related", rxcui)`, `("classes", rxcui,
    relaSource)`). `faults[lookup]` are answers given before the real one, in order;
    `broken[lookup]` replaces the real answer for good."""

    def __init__(self, httpserver) -> None:
        self.url = httpserver.url_for("/REST")
        self.asked: list[tuple] = []
        self.faults: dict[tuple, list[Response]] = {}
        self.broken: dict[tuple, Response] = {}
        httpserver.expect_request(re.compile(r"^/REST/.*")).respond_with_handler(self._answer)

    def _answer(self, request: Request) -> Response:
        lookup, answer = self._lookup(request)
        self.asked.append(lookup)
        if self.faults.get(lookup):
            return self.faults[lookup].pop(0)
        if lookup in self.broken:
            return self.broken[lookup]
        return Response(json.dumps(answer), content_type="application/json")

    def _lookup(self, request: Request) -> tuple[tuple, dict | bytes]:
        args = request.args
        if request.path == "/REST/rxcui.json" and args.get("idtype") == "NDC":
            ndc = args["id"]
            return ("ndc", ndc), self._file(NDC_FILES.get(ndc)) or {
                "idGroup": {"idType": "NDC", "id": ndc}
            }
        if request.path == "/REST/rxcui.json":
            key = (args["name"], args["search"])
            return ("name", *key), self._file(NAME_FILES.get(key)) or {
                "idGroup": {"name": args["name"]}
            }
        related = RELATED_PATH.match(request.path)
        if related:
            rxcui = related.group(1)
            nothing = [{"tty": tty} for tty in ("BN", "IN", "MIN", "PIN", "SBD", "SCD")]
            return ("related", rxcui), self._file(RELATED_FILES.get(rxcui)) or {
                "allRelatedGroup": {"rxcui": rxcui, "conceptGroup": nothing}
            }
        if request.path == "/REST/rxclass/class/byRxcui.json":
            key = (args["rxcui"], args["relaSource"])
            return ("classes", *key), self._file(CLASS_FILES.get(key)) or {
                "userInput": {"relaSource": key[1], "relas": "ALL", "rxcui": key[0]}
            }
        raise AssertionError(f"an unexpected request: {request.url}")

    @staticmethod
    def _file(name: str | None) -> dict | None:
        return orjson.loads((FIXTURES / name).read_bytes()) if name else None


@pytest.fixture
def rxnav_api(httpserver, monkeypatch: pytest.MonkeyPatch) -> RxNavReplay:
    api = RxNavReplay(httpserver)
    monkeypatch.setenv("SOURCES__RXNAV__API_URL", api.url)
    monkeypatch.setenv("SOURCES__RXNAV__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "5")
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "10")
    return api


def create_drug_staging(connection: ConnectionInfo) -> None:
    """The lookup view RxNav reads (`staging.int_rxnav_lookups`, built by dbt from the
    drug sources' staging) replaced by a table of its columns holding one real NDC and the
    names of the real allrelated answer, spelt as the drug sources spell them (spaces,
    case, a repeat)."""
    conn = connection.connect()
    try:
        with conn, conn.cursor() as cur:
            cur.execute("drop view if exists staging.int_rxnav_lookups")
            cur.execute(
                "create table staging.int_rxnav_lookups (lookup_kind text, lookup_value text)"
            )
            cur.execute(
                "insert into staging.int_rxnav_lookups values "
                "('ndc', '0781-1506-10'), ('ndc', ' 0781-1506-10'), ('ndc', '0002-3227-30'), "
                "('name', 'Ketotifen  Fumarate'), ('name', 'KETOTIFEN FUMARATE'), "
                "('name', 'Zyrtec Itchy Eye'), ('name', ''), ('name', null)"
            )
    finally:
        conn.close()


def counts(connection: ConnectionInfo) -> dict[str, int]:
    return {
        table: query(connection, f"select count(*) from raw_rxnav.{table}")[0][0]  # noqa: S608
        for table in ("ndc_rxcuis", "name_rxcuis", "related_ingredients", "drug_classes")
    }


FIRST_WINDOW = [
    ("ndc", "0002-3227-30"),
    ("ndc", "0781-1506-10"),
    ("name", "ketotifen fumarate", "2"),
    ("name", "zyrtec itchy eye", "2"),
]
SECOND_WINDOW = [
    ("related", "11404"),
    ("classes", "11404", "DAILYMED"),
    ("classes", "11404", "ATC"),
    ("related", "197381"),
    ("classes", "197381", "DAILYMED"),
    ("classes", "197381", "ATC"),
    ("related", "866350"),
    ("classes", "866350", "DAILYMED"),
    ("classes", "866350", "ATC"),
]


def test_ndcs_and_names_of_the_drug_tables_are_looked_up_once(database, rxnav_api):
    create_drug_staging(database)

    result = land_source(database, "rxnav")

    # NDCs and names first (each once, however the tables spell them), then the ids
    # they found, in the next window.
    assert rxnav_api.asked == FIRST_WINDOW + SECOND_WINDOW
    assert result.windows == 2
    assert result.rejected == 0
    assert counts(database) == {
        "ndc_rxcuis": 2,
        "name_rxcuis": 2,
        "related_ingredients": 3,
        "drug_classes": 6,
    }
    # The answer lands unchanged, with its key, request and time.
    (ndc,) = query(
        database,
        "select record, source_uri, fetched_at, deleted "
        "from raw_rxnav.ndc_rxcuis where ndc = '0781-1506-10'",
    )
    assert ndc[0] == orjson.loads((FIXTURES / "rxnorm_rxcui_by_ndc.json").read_bytes())
    assert ndc[1] == f"{rxnav_api.url}/rxcui.json?idtype=NDC&id=0781-1506-10"
    assert ndc[2] is not None and ndc[3] is False
    # An NDC RxNav does not know lands its empty answer: it is not asked again soon.
    assert query(
        database, "select record from raw_rxnav.ndc_rxcuis where ndc = '0002-3227-30'"
    ) == [({"idGroup": {"idType": "NDC", "id": "0002-3227-30"}},)]
    assert query(
        database,
        "select record -> 'allRelatedGroup' ->> 'rxcui' from raw_rxnav.related_ingredients "
        "where rxcui = '866350'",
    ) == [("866350",)]

    again = land_source(database, "rxnav")

    assert len(rxnav_api.asked) == len(FIRST_WINDOW + SECOND_WINDOW)  # nothing new asked
    assert again.total_rows == 0
    assert again.windows == 1


def test_an_answer_older_than_the_refresh_age_is_asked_again(database, rxnav_api):
    create_drug_staging(database)
    land_source(database, "rxnav")
    asked_before = len(rxnav_api.asked)
    conn = database.connect()
    with conn, conn.cursor() as cur:
        cur.execute(
            "update raw_rxnav.ndc_rxcuis set fetched_at = fetched_at - interval '31 days' "
            "where ndc = '0781-1506-10'"
        )
    conn.close()

    result = land_source(database, "rxnav", refresh_days=30)

    # Only the stale NDC; the id it finds again was answered recently.
    assert rxnav_api.asked[asked_before:] == [("ndc", "0781-1506-10")]
    assert result.rows == {"ndc_rxcuis": 1}


def test_orange_book_ingredients_are_looked_up_in_windows(database, rxnav_api):
    land_source(database, "orangebook", bulk_location=str(EXCERPT))
    (distinct,) = query(
        database,
        "select count(distinct lower(trim(part))) from raw_orangebook.products, "
        "unnest(string_to_array(record ->> 'ingredient', ';')) as part",
    )[0]
    assert distinct == 69  # "ACETAMINOPHEN; CODEINE ..." is two ingredients

    result = land_source(database, "rxnav", lookups_per_window=40)

    # Only the Orange Book landed: its names, through the lookup view. None is in the
    # replay, so each is searched twice (best match, then approximate), and both empty
    # answers land.
    names = [lookup for lookup in rxnav_api.asked if lookup[0] == "name"]
    assert len(names) == 2 * 69
    assert {lookup[2] for lookup in names} == {"2", "9"}
    assert result.windows == 2  # 40 names, then 29
    assert result.rows == {"name_rxcuis": 138}
    assert query(
        database,
        "select search, count(*) from raw_rxnav.name_rxcuis group by 1 order by 1",
    ) == [(2, 69), (9, 69)]
    assert query(
        database, "select count(*) from raw_rxnav.name_rxcuis where name = 'budesonide'"
    ) == [(2,)]

    again = land_source(database, "rxnav", lookups_per_window=40)

    assert len(rxnav_api.asked) == 2 * 69
    assert again.total_rows == 0


def test_the_ndcs_and_names_of_dailymed_and_openfda_are_looked_up(database, rxnav_api):
    land_source(database, "dailymed", bulk_location=str(SAMPLES_DIR / "dailymed"))
    land_source(database, "openfda", bulk_location=str(SAMPLES_DIR / "openfda"))
    # What the drug sources landed, read from their staging views as RxNav's issue
    # names them: package NDCs, DailyMed and openFDA generic names, openFDA brand names.
    ndcs = {
        "".join(ndc.split())
        for (ndc,) in query(
            database,
            "select unnest(ndc_package_codes) from staging.stg_dailymed__products "
            "union select package_ndc from staging.stg_openfda__ndc_packages",
        )
        if ndc and ndc.strip()
    }
    names = {
        " ".join(name.split()).lower()
        for (name,) in query(
            database,
            "select generic_name from staging.stg_dailymed__products union "
            "select generic_name from staging.stg_openfda__ndc_products union "
            "select brand_name from staging.stg_openfda__ndc_products",
        )
        if name and name.strip()
    }
    assert len(ndcs) > 10 and len(names) > 5

    land_source(database, "rxnav", lookups_per_window=10_000)

    assert {lookup[1] for lookup in rxnav_api.asked if lookup[0] == "ndc"} == ndcs
    asked_names = {lookup[1] for lookup in rxnav_api.asked if lookup[0] == "name"}
    assert asked_names == names
    assert {"atorvastatin calcium", "adalimumab"} <= asked_names


def test_nothing_is_looked_up_before_dbt_built_the_lookup_view(new_database, rxnav_api):
    land_source(new_database, "orangebook", bulk_location=str(EXCERPT))

    result = land_source(new_database, "rxnav")

    assert rxnav_api.asked == []
    assert result.total_rows == 0


def test_429_and_too_many_requests_with_200_are_retried_then_land(database, rxnav_api):
    create_drug_staging(database)
    ndc = ("ndc", "0781-1506-10")
    rxnav_api.faults[ndc] = [
        Response("slow down", status=429, headers={"Retry-After": "0"}),
        Response(THROTTLED, status=200, content_type="text/plain"),
    ]
    rxnav_api.faults[("classes", "866350", "ATC")] = [Response(THROTTLED, status=200)]

    result = land_source(database, "rxnav")

    assert rxnav_api.asked.count(ndc) == 3
    assert rxnav_api.asked.count(("classes", "866350", "ATC")) == 2
    assert result.rejected == 0
    assert query(
        database,
        "select record -> 'idGroup' -> 'rxnormId' from raw_rxnav.ndc_rxcuis "
        "where ndc = '0781-1506-10'",
    ) == [(["197381"],)]
    assert counts(database)["drug_classes"] == 6


def test_throttling_past_the_retry_budget_fails_naming_the_source_and_lookup(database, rxnav_api):
    create_drug_staging(database)
    ndc = ("ndc", "0781-1506-10")
    rxnav_api.faults[ndc] = [Response(THROTTLED, status=200) for _ in range(10)]

    with pytest.raises(PublisherUnavailable) as failure:
        land_source(database, "rxnav")

    assert rxnav_api.asked.count(ndc) == 4  # RUNTIME__REQUEST_MAX_ATTEMPTS
    assert "rxnav: NDC 0781-1506-10:" in str(failure.value)
    assert "throttled after 4 attempts" in str(failure.value)
    assert failure.value.retryable  # the refresh flow retries the task later


def test_a_malformed_answer_is_rejected_by_lookup_and_the_rest_lands(database, rxnav_api):
    create_drug_staging(database)
    rxnav_api.broken[("ndc", "0002-3227-30")] = Response(
        "<html><body>Service temporarily unavailable</body></html>", content_type="text/html"
    )
    rxnav_api.broken[("classes", "866350", "DAILYMED")] = Response(
        json.dumps({"rxclassDrugInfoList": {"rxclassDrugInfo": "none"}}),
        content_type="application/json",
    )
    rxnav_api.broken[("name", "ketotifen fumarate", "2")] = Response(
        json.dumps({"error": "unexpected"}), content_type="application/json"
    )

    result = land_source(database, "rxnav")

    assert result.rejected == 3
    rejects = query(database, "select source_uri, problem from raw_rxnav.rejects order by 1")
    assert [where for where, _ in rejects] == [
        "DAILYMED classes of rxcui 866350",
        "NDC 0002-3227-30",
        "name 'ketotifen fumarate' (best match)",
    ]
    assert rejects[0][1] == "rxclassDrugInfoList holds no rxclassDrugInfo list"
    assert rejects[1][1].startswith("the answer is not JSON")
    assert rejects[2][1] == "the answer has no idGroup object"
    # Everything else landed (11404 was found by the rejected name only: not asked yet).
    assert counts(database) == {
        "ndc_rxcuis": 1,
        "name_rxcuis": 1,
        "related_ingredients": 2,
        "drug_classes": 3,
    }

    del rxnav_api.broken[("ndc", "0002-3227-30")]
    asked_before = len(rxnav_api.asked)
    land_source(database, "rxnav")

    # The rejected lookups are asked again; what landed is not.
    assert set(rxnav_api.asked[asked_before:]) >= {
        ("ndc", "0002-3227-30"),
        ("classes", "866350", "DAILYMED"),
    }
    assert ("ndc", "0781-1506-10") not in rxnav_api.asked[asked_before:]


def test_bulk_files_are_refused(database):
    with pytest.raises(ValueError, match="no bulk files"):
        rxnav(bulk_location=str(Path("anything.zip")))
