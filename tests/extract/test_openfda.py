"""openFDA extract: the real dlt pipeline into a real PostgreSQL, the API and the download
manifest served over HTTP on 127.0.0.1. The label and NDC pages and partitions are
constructed from FDA's documented sample records (tests/fixtures/openfda/derived/derive.py
says how): no real label or NDC API page with its records has been found. The error
bodies are openFDA's real ones; real partition records and real `search_after` pages are
tested in test_openfda_real_answers.py."""

from __future__ import annotations

import copy
import json
import logging
import shutil
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from werkzeug import Request, Response

from extract.bulk import Outcome
from medmirror.settings import ConnectionInfo
from tests.conftest import DERIVED, error_response, land_source, query
from tests.extract.legacy_state import write_legacy_state
from tests.extract.openfda_publisher import OpenFdaPublisher

FIXTURES = DERIVED / "openfda" / "derived"
PARTITIONS = FIXTURES / "partitions"
BAD_PARTITIONS = FIXTURES / "partitions_bad"
LABEL_PATH = "/drug/label.json"
NDC_PATH = "/drug/ndc.json"
API_KEY = "k3y-that-must-never-be-logged"
# openFDA's real answer to a search that matches nothing (a recorded 404 body, see
# tests/fixtures/openfda/PROVENANCE.md).
NOT_FOUND_BODY = (DERIVED / "openfda" / "error_404_not_found.json").read_bytes()
REAL_SET_ID = "e71151ba-f2f4-4e95-9256-3db361d40a54"  # the documented sample label
METHOXSALEN_SET_ID = "28cdcef9-0623-4c5a-bd18-aa3d2a3d40f8"


def page(name: str, next_url: str | None = None) -> Response:
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else None
    return Response(
        (FIXTURES / name).read_bytes(), headers=headers, content_type="application/json"
    )


def not_found() -> Response:
    return Response(NOT_FOUND_BODY, status=404, content_type="application/json")


class OpenFdaApi:
    """Replays /drug/label.json and /drug/ndc.json on 127.0.0.1, one queue per endpoint,
    and records each request's query parameters (every value of each). The counting
    questions (`limit=1`: what openFDA has published, a window's total) are answered
    from `probes` (404 NOT_FOUND by default: nothing is known) and not recorded."""

    def __init__(self, httpserver) -> None:
        self.server = httpserver
        self.queues: dict[str, list] = {LABEL_PATH: [], NDC_PATH: []}
        self.requests: dict[str, list[dict[str, list[str]]]] = {LABEL_PATH: [], NDC_PATH: []}
        self.times: dict[str, list[float]] = {LABEL_PATH: [], NDC_PATH: []}
        self.probes: dict[str, list] = {LABEL_PATH: [], NDC_PATH: []}
        for path in self.queues:
            httpserver.expect_request(path).respond_with_handler(self._answer)

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def _answer(self, request: Request) -> Response:
        if request.args.get("limit") == "1":
            probes = self.probes[request.path]
            return probes.pop(0) if probes else not_found()
        self.requests[request.path].append(request.args.to_dict(flat=False))
        self.times[request.path].append(time.monotonic())
        queue = self.queues[request.path]
        return queue.pop(0) if queue else not_found()

    def searches(self, path: str) -> list[str]:
        return [args["search"][0] for args in self.requests[path] if "search" in args]


@pytest.fixture
def api(httpserver, monkeypatch: pytest.MonkeyPatch) -> OpenFdaApi:
    replay = OpenFdaApi(httpserver)
    monkeypatch.setenv("SOURCES__OPENFDA__LABEL_URL", replay.url(LABEL_PATH))
    monkeypatch.setenv("SOURCES__OPENFDA__NDC_URL", replay.url(NDC_PATH))
    monkeypatch.setenv("SOURCES__OPENFDA__LABEL_WINDOW_DAYS", "100000")  # one window
    monkeypatch.setenv("SOURCES__OPENFDA__NDC_WINDOW_DAYS", "100000")
    monkeypatch.setenv("SOURCES__OPENFDA__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "5")
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "10")
    return replay


def labels(connection: ConnectionInfo) -> list[tuple]:
    return query(
        connection,
        "select set_id, version, effective_time from raw_openfda.labels "
        "order by set_id, version, _dlt_load_id",
    )


def ndc_products(connection: ConnectionInfo) -> list[tuple]:
    return query(
        connection,
        "select product_id, product_ndc, listing_expiration_date from raw_openfda.ndc "
        "order by product_id, _dlt_load_id",
    )


def rejects(connection: ConnectionInfo) -> list[tuple[str, str]]:
    return query(connection, "select source_uri, problem from raw_openfda.rejects order by 1, 2")


LANDED_LABELS = [
    (METHOXSALEN_SET_ID, "5", date(2014, 7, 15)),
    (REAL_SET_ID, "2", date(2014, 4, 23)),
    (REAL_SET_ID, "3", date(2015, 1, 10)),
]
LANDED_NDC = [
    ("68682-065_12b39571-f883-4a2a-a909-aef528d77d0a", "68682-065", date(2018, 12, 31)),
    ("68682-065_12b39571-f883-4a2a-a909-aef528d77d0b", "68682-065", date(2019, 12, 31)),
    ("68682-066_3c0b5e57-0000-4000-8000-000000000066", "68682-066", date(2018, 12, 31)),
]


# -- the API: paging, windows, the cursor ------------------------------------------------


def test_pages_follow_the_link_header_with_search_after_and_the_key_is_never_logged(
    database, api: OpenFdaApi, monkeypatch, caplog
):
    monkeypatch.setenv("SOURCES__OPENFDA__API_KEY", API_KEY)
    caplog.set_level(logging.INFO)
    # openFDA's next link repeats every parameter, the key included, and adds search_after.
    next_labels = (
        f"{api.url(LABEL_PATH)}?search=effective_time%3A%5B19900101+TO+99991231%5D"
        f"&limit=1000&api_key={API_KEY}&skip=0&search_after=0%3D1405382400000%3B1%3Dab12"
    )
    api.queues[LABEL_PATH] += [
        page("label_page1.constructed.json", next_labels),
        page("label_page2.constructed.json"),
    ]
    api.queues[NDC_PATH].append(page("ndc_page1.constructed.json"))

    result = land_source(database, "openfda")

    first, second, *more = api.requests[LABEL_PATH]
    assert more == []  # no Link header on page 2: the window is done
    assert first == {
        "search": ["effective_time:[19900101 TO 99991231]"],
        "limit": ["1000"],
        "api_key": [API_KEY],
    }
    assert second["search_after"] == ["0=1405382400000;1=ab12"]
    assert second["search"] == first["search"]
    assert second["api_key"] == [API_KEY]  # sent once, not twice
    assert api.requests[NDC_PATH][0]["search"] == ["listing_expiration_date:[20000101 TO 99991231]"]
    assert labels(database) == LANDED_LABELS
    assert result.rows == {"labels": 3, "ndc": 2}
    # The label without set_id is rejected by name; the rest of its page lands.
    ((where, problem),) = rejects(database)
    assert "page 2 of labels" in where and "00000000-0000-4000-8000-000000000001" in where
    assert problem == "a label without set_id or version"
    (record,) = query(
        database,
        "select record, source_uri from raw_openfda.labels where set_id = %s",
        METHOXSALEN_SET_ID,
    )
    assert record[0]["openfda"]["product_ndc"] == ["68682-065"]
    assert record[0]["boxed_warning"][0].startswith("WARNING")
    assert record[1] == api.url(LABEL_PATH)
    # Every log line but the replay server's own (it logs what it was asked).
    logged = "\n".join(entry.getMessage() for entry in caplog.records if entry.name != "werkzeug")
    assert "page 2 of labels" in logged  # the paging was logged ...
    assert API_KEY not in logged  # ... never the key


def results(name: str) -> list[dict]:
    return json.loads((FIXTURES / name).read_text())["results"]


def derived(record: dict, **changes: str) -> dict:
    """A derived copy of a constructed record: what changed is named by the caller."""
    return {**copy.deepcopy(record), **changes}


@pytest.fixture
def publishers(httpserver, monkeypatch: pytest.MonkeyPatch) -> dict[str, OpenFdaPublisher]:
    """/drug/label.json and /drug/ndc.json as openFDA publishes them (as of 2015-10-29 and
    2018-07-30, the constructed pages' own dates), in 1,500-day windows from 2010."""
    label = OpenFdaPublisher(httpserver, LABEL_PATH, as_of=date(2015, 10, 29))
    ndc = OpenFdaPublisher(httpserver, NDC_PATH, as_of=date(2018, 7, 30))
    label.records = results("label_page1.constructed.json")
    ndc.records = results("ndc_page1.constructed.json")
    monkeypatch.setenv("SOURCES__OPENFDA__LABEL_URL", label.url)
    monkeypatch.setenv("SOURCES__OPENFDA__NDC_URL", ndc.url)
    for dataset in ("LABEL", "NDC"):
        monkeypatch.setenv(f"SOURCES__OPENFDA__{dataset}_START_DATE", "2010-01-01")
        monkeypatch.setenv(f"SOURCES__OPENFDA__{dataset}_WINDOW_DAYS", "1500")
    monkeypatch.setenv("SOURCES__OPENFDA__REQUESTS_PER_SECOND", "0")
    return {"label": label, "ndc": ndc}


def full_reads(publisher: OpenFdaPublisher) -> list[str]:
    """The searches read page by page (not the `limit=1` counting questions)."""
    return [
        args["search"]
        for args in publisher.requests
        if args.get("limit") != "1" and "search" in args
    ]


def test_a_label_published_late_with_an_older_effective_time_lands_on_the_next_run(
    database, publishers
):
    label, ndc = publishers["label"], publishers["ndc"]
    next_year = date.today().year + 1
    # Derived: the documented label with another set id and a future effective time (one
    # such label no longer moves a cursor past everything), and an NDC listing certified
    # through the end of next year (a future date by nature).
    future = derived(
        label.records[0],
        set_id="f0000000-0000-4000-8000-00000000f001",
        id="f0000000-0000-4000-8000-00000000f002",
        effective_time=f"{next_year}0101",
    )
    label.records.append(future)
    certified = derived(
        ndc.records[1],
        product_id="68682-066_3c0b5e57-0000-4000-8000-000000000067",
        listing_expiration_date=f"{next_year}1231",
    )
    ndc.records.append(certified)

    first = land_source(database, "openfda")

    assert first.rows == {"labels": 3, "ndc": 3}
    # Five windows each, of 1,500 days from 2010-01-01, the last open-ended.
    assert full_reads(label) == [
        "effective_time:[20100101 TO 20140208]",
        "effective_time:[20140209 TO 20180319]",
        "effective_time:[20180320 TO 20220427]",
        "effective_time:[20220428 TO 20260605]",
        "effective_time:[20260606 TO 99991231]",
    ]
    assert full_reads(ndc)[-1] == "listing_expiration_date:[20260606 TO 99991231]"
    reads = len(full_reads(label)), len(full_reads(ndc))

    # Nothing published since: one question each, nothing read.
    assert land_source(database, "openfda").total_rows == 0
    assert (len(full_reads(label)), len(full_reads(ndc))) == reads

    # openFDA's next publication holds a label effective 2013-01-01 (a derived copy of
    # the documented label, set id and effective time changed), older than every label
    # landed, and a product listing certified through 2019 (ndc_page2).
    late = derived(
        label.records[0],
        set_id="1a7e0000-0000-4000-8000-000000000013",
        id="1a7e0000-0000-4000-8000-000000000014",
        effective_time="20130101",
    )
    label.records.append(late)
    label.as_of = date(2015, 11, 5)
    ndc.records += results("ndc_page2.constructed.json")
    ndc.as_of = date(2018, 8, 6)

    second = land_source(database, "openfda")

    # Only the windows whose totals changed were read again.
    assert full_reads(label)[reads[0] :] == ["effective_time:[20100101 TO 20140208]"]
    assert full_reads(ndc)[reads[1] :] == ["listing_expiration_date:[20180320 TO 20220427]"]
    # A changed window is read whole (the NDC window holds the two products landed
    # before), but raw keeps one copy of each version: only the new product counts.
    assert second.rows == {"labels": 1, "ndc": 1}
    assert ("1a7e0000-0000-4000-8000-000000000013", "2", date(2013, 1, 1)) in labels(database)


def test_a_sweep_that_reads_every_window_whole_tombstones_a_withdrawn_label(
    database, publishers, caplog
):
    """openFDA's total of a window says how many records it holds, not which: only a sweep
    that read every window whole, under one publication, naming as many records as openFDA
    states, is a complete listing. An incremental sweep (unchanged windows only counted)
    lands no deletion notice; `--full` reads every window and lands it."""
    label = publishers["label"]
    caplog.set_level(logging.INFO, logger="extract.openfda")
    land_source(database, "openfda")  # the first sweep: whole, nothing landed before it

    label.records = [r for r in label.records if r["set_id"] != METHOXSALEN_SET_ID]
    label.as_of = date(2015, 11, 5)  # openFDA's next publication no longer holds it
    incremental = land_source(database, "openfda")

    assert incremental.rejected == 0
    assert deleted_labels(database) == []
    assert "did not read every window whole: it lands no deletion notice" in caplog.text

    full = land_source(database, "openfda", full=True)

    assert full.rows["labels"] == 1  # the deletion notice (the rest repeats raw)
    assert deleted_labels(database) == [METHOXSALEN_SET_ID]
    assert query(database, "select count(*) from raw_openfda.ndc where deleted") == [
        (0,)
    ]  # every NDC product is still listed


def test_a_whole_sweep_naming_fewer_records_than_openfda_states_lands_no_tombstone(
    database, publishers
):
    label = publishers["label"]
    land_source(database, "openfda")
    # openFDA now also holds a label effective before the first window (2010-01-01): no
    # window names it, so the sweep names fewer labels than openFDA's total.
    label.records.append(
        derived(
            label.records[0],
            set_id="0d000000-0000-4000-8000-000000000005",
            id="0d000000-0000-4000-8000-000000000006",
            effective_time="20050101",
        )
    )
    label.records = [r for r in label.records if r["set_id"] != METHOXSALEN_SET_ID]
    label.as_of = date(2015, 11, 5)

    full = land_source(database, "openfda", full=True)

    assert deleted_labels(database) == []
    assert full.rejected == 1
    ((problem,),) = query(database, "select problem from raw_openfda.rejects")
    assert problem.startswith("the sweep read 1 of the 2 labels records openFDA stated")


def deleted_labels(connection: ConnectionInfo) -> list[str]:
    return [
        set_id
        for (set_id,) in query(
            connection, "select set_id from raw_openfda.labels where deleted order by 1"
        )
    ]


def test_full_pages_land_whole(database, publishers, monkeypatch):
    """Asked one record a page (`limit=1`), every page openFDA answers is full, as all but
    the last of its real 1,000-record pages are: each record lands (a batch as long as
    the page was once handed back and dropped)."""
    monkeypatch.setenv("SOURCES__OPENFDA__PAGE_SIZE", "1")
    label, ndc = publishers["label"], publishers["ndc"]

    result = land_source(database, "openfda")

    keyed = [record for record in label.records if record.get("set_id")]
    assert result.rows == {"labels": len(keyed), "ndc": len(ndc.records)}
    assert sorted(row[0] for row in labels(database)) == sorted(r["set_id"] for r in keyed)


def test_windows_are_committed_one_by_one_and_empty_ones_are_not_errors(
    database, api: OpenFdaApi, monkeypatch
):
    start = date.today() - timedelta(days=12)
    monkeypatch.setenv("SOURCES__OPENFDA__LABEL_WINDOW_DAYS", "5")
    monkeypatch.setenv("SOURCES__OPENFDA__LABEL_START_DATE", start.isoformat())

    result = land_source(database, "openfda")  # openFDA answers every search 404 NOT_FOUND

    def day(offset: int) -> str:
        return (start + timedelta(days=offset)).strftime("%Y%m%d")

    assert api.searches(LABEL_PATH) == [
        f"effective_time:[{day(0)} TO {day(4)}]",
        f"effective_time:[{day(5)} TO {day(9)}]",
        f"effective_time:[{day(10)} TO 99991231]",
    ]
    assert result.windows == 3
    assert result.rows == {}

    # Windows whose totals openFDA still states as 0 are counted (limit=1), not read.
    land_source(database, "openfda")

    assert len(api.searches(LABEL_PATH)) == 3


def test_429_and_5xx_are_retried(database, api: OpenFdaApi):
    api.queues[LABEL_PATH] += [
        error_response(429, {"Retry-After": "1"}),
        error_response(503),
        error_response(500),
        page("label_page1.constructed.json"),
    ]

    land_source(database, "openfda")

    assert len(api.requests[LABEL_PATH]) == 4
    assert api.times[LABEL_PATH][1] - api.times[LABEL_PATH][0] >= 0.95  # Retry-After
    assert [row[:2] for row in labels(database)] == [(METHOXSALEN_SET_ID, "5"), (REAL_SET_ID, "2")]


def test_a_404_that_is_not_not_found_is_an_error(database, api: OpenFdaApi):
    from extract.errors import RequestRejected

    # openFDA's real BAD_REQUEST body (recorded with a 400), sent here with a 404.
    api.queues[LABEL_PATH].append(
        Response((DERIVED / "openfda" / "error_400_bad_request_sort.json").read_bytes(), status=404)
    )
    with pytest.raises(RequestRejected, match="answered 404"):
        land_source(database, "openfda")


# -- bulk partitions ------------------------------------------------------------------------


def test_a_folder_of_partitions_lands_each_once_and_a_rerun_lands_nothing(database):
    result = land_source(database, "openfda", bulk_location=str(PARTITIONS))

    assert result.rows == {"labels": 3, "ndc": 3}
    assert result.windows == 3  # one committed window per partition
    assert labels(database) == LANDED_LABELS
    assert ndc_products(database) == LANDED_NDC
    ((where, problem),) = rejects(database)
    assert where.endswith(
        "drug-label-0002-of-0002.json.zip!drug-label-0002-of-0002.json #2 label "
        "00000000-0000-4000-8000-000000000001"
    )
    assert problem == "a label without set_id or version"

    again = land_source(database, "openfda", bulk_location=str(PARTITIONS))

    assert again.rows == {} and again.rejected == 0
    assert len(labels(database)) == 3


def test_a_broken_partition_is_rejected_by_name_and_position_and_the_rest_lands(database):
    result = land_source(database, "openfda", bulk_location=str(BAD_PARTITIONS))

    # 0001 (2 labels) and 0003 (1) land; 0002 is cut off inside its second record and
    # lands nothing, not even its first record; the NDC zip is cut off halfway.
    assert result.rows == {"labels": 3}
    assert labels(database) == [
        (METHOXSALEN_SET_ID, "5", date(2014, 7, 15)),
        (REAL_SET_ID, "2", date(2014, 4, 23)),
        (REAL_SET_ID, "3", date(2015, 1, 10)),
    ]
    (broken_json, broken_zip) = rejects(database)
    assert broken_json[0].endswith("drug-label-0002-of-0003.json.zip!drug-label-0002-of-0003.json")
    assert broken_json[1].startswith("broken JSON after record 1, within the first")
    assert broken_zip[0].endswith("drug-ndc-0001-of-0001.json.zip")
    assert result.rejected == 2

    again = land_source(database, "openfda", bulk_location=str(BAD_PARTITIONS))
    assert again.rows == {} and again.rejected == 0


def test_the_download_manifest_is_followed_to_its_partitions(database, httpserver, tmp_path):
    served: list[str] = []

    def partition(name: str):
        def answer(request: Request) -> Response:
            served.append(name)
            return Response((PARTITIONS / name).read_bytes(), content_type="application/zip")

        return answer

    names = sorted(path.name for path in PARTITIONS.iterdir())
    for name in names:
        httpserver.expect_request(f"/drug/{name}").respond_with_handler(partition(name))

    def listing(prefix: str) -> dict:
        return {
            "export_date": "2024-01-01",
            "total_records": 3,
            "partitions": [
                {"display_name": name, "file": httpserver.url_for(f"/drug/{name}"), "size_mb": "0"}
                for name in names
                if name.startswith(prefix)
            ],
        }

    manifest = {
        "meta": {"last_updated": "2024-01-01"},
        "results": {
            "drug": {
                "label": listing("drug-label"),
                "ndc": listing("drug-ndc"),
                "event": listing("drug-event"),
            }
        },
    }
    httpserver.expect_request("/download.json").respond_with_json(manifest)
    location = httpserver.url_for("/download.json")

    result = land_source(database, "openfda", bulk_location=location, download_dir=str(tmp_path))

    assert result.rows == {"labels": 3, "ndc": 3}
    assert served == names  # each partition downloaded once, in the manifest's order
    assert labels(database) == LANDED_LABELS
    assert Path(tmp_path, "openfda", "label", "2024-01-01", names[0]).exists()

    again = land_source(database, "openfda", bulk_location=location, download_dir=str(tmp_path))

    assert again.rows == {} and served == names


def documented_label_partition(folder: Path, effective_time: str | None = None) -> Path:
    """openFDA's documented label example as a partition file: its meta block
    (`anatomy.meta`) and its one sample result (`results.results`), unchanged unless
    `effective_time` is given (then written so)."""
    example = json.loads((DERIVED / "openfda" / "docs_examples_drug_label.json").read_bytes())
    answer = {"meta": example["anatomy"]["meta"], "results": example["results"]["results"]}
    if effective_time is not None:
        answer["results"][0]["effective_time"] = effective_time
    partition = folder / "drug-label-0001-of-0001.json"
    partition.write_bytes(json.dumps(answer).encode())
    return partition


def test_every_file_offered_is_accounted_for(database, tmp_path: Path):
    folder = tmp_path / "openfda"
    folder.mkdir()
    shutil.copyfile(
        PARTITIONS / "drug-ndc-0001-of-0001.json.zip", folder / "drug-ndc-0001-of-0001.json.zip"
    )
    (folder / "README.txt").write_text("openFDA downloads, January export\n")
    # Real openFDA answers of another endpoint (drug events): a count answer (a results
    # array of terms) and one event record. Neither is a label or NDC partition.
    for name in (
        "drug_event_count_pembrolizumab_reactions.json",
        "drug_event_record_postannotation.json",
    ):
        shutil.copyfile(DERIVED / "faers" / name, folder / name)
    # The documented label answer saved under a name of its own: a label partition.
    (folder / "label-sample.json").write_bytes(documented_label_partition(tmp_path).read_bytes())

    result = land_source(database, "openfda", bulk_location=str(folder))

    outcomes = {uri.split("/")[-1]: found.outcome for uri, found in result.files.files.items()}
    assert outcomes == {
        "README.txt": Outcome.NOT_RELEASE_FILE,
        "drug-ndc-0001-of-0001.json.zip!drug-ndc-0001-of-0001.json": Outcome.LANDED,
        "drug_event_count_pembrolizumab_reactions.json": Outcome.NOT_RELEASE_FILE,
        "drug_event_record_postannotation.json": Outcome.NOT_RELEASE_FILE,
        "label-sample.json": Outcome.LANDED,
    }
    assert result.rows == {"labels": 1, "ndc": 3}

    again = land_source(database, "openfda", bulk_location=str(folder))

    assert again.total_rows == 0
    assert again.files.count(Outcome.ALREADY_LANDED) == 2


def test_a_date_of_an_unexpected_shape_lands_the_label_as_written(database, tmp_path: Path):
    # Derived: the documented label with its effective_time written 2014-04-23 (ISO)
    # instead of openFDA's 20140423.
    partition = documented_label_partition(tmp_path, effective_time="2014-04-23")

    result = land_source(database, "openfda", bulk_location=str(partition))

    assert result.rows == {"labels": 1} and result.rejected == 0
    assert query(
        database, "select effective_time, record ->> 'effective_time' from raw_openfda.labels"
    ) == [(None, "2014-04-23")]


def test_an_upgrade_keeps_the_partitions_the_older_ledger_landed(database):
    # The state medmirror's own openFDA ledger kept before BulkLedger: partition -> True,
    # a file partition by its name, CRC and size.
    with zipfile.ZipFile(PARTITIONS / "drug-ndc-0001-of-0001.json.zip") as archive:
        (info,) = archive.infolist()
    landed = f"{info.filename}|{info.CRC:08x}|{info.file_size}"
    write_legacy_state(database, "openfda", "partitions", {"landed": {landed: True}})

    result = land_source(database, "openfda", bulk_location=str(PARTITIONS))

    assert result.rows == {"labels": 3}  # the two label partitions only
    assert result.files.count(Outcome.ALREADY_LANDED) == 1
