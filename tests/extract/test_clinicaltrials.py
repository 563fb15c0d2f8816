"""ClinicalTrials.gov extract: the real dlt pipeline into a real PostgreSQL, the API replayed
from real recorded pages over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from datetime import date
from pathlib import Path

import pytest
from werkzeug import Response

from extract.bulk import Outcome, signature
from extract.clinicaltrials import clinicaltrials
from extract.errors import MalformedInput, PublisherUnavailable
from extract.landing import land, pipeline_for
from medmirror.settings import SAMPLES_DIR, ConnectionInfo, load_settings
from tests.conftest import StudiesApi, error_response, json_response, land_source, query, sample
from tests.extract.legacy_state import write_legacy_state

PAGE1 = "clinicaltrials/studies_page1_phelan_pagesize5.json"
PAGE2_LAST = "clinicaltrials/derived/studies_page2_phelan_last.json"
PAGE_DATED = "clinicaltrials/derived/studies_page_dated.json"
RESYNC_WITHOUT_ONE = "clinicaltrials/derived/resync_phelan_without_NCT01525901.json"

PHELAN_IDS = sorted(
    study["protocolSection"]["identificationModule"]["nctId"]
    for page in (PAGE1, PAGE2_LAST)
    for study in json.loads(sample(page))["studies"]
)
DATED_IDS = sorted(
    study["protocolSection"]["identificationModule"]["nctId"]
    for study in json.loads(sample(PAGE_DATED))["studies"]
)


def raw_rows(connection: ConnectionInfo) -> list[tuple]:
    return query(
        connection,
        "select nct_id, last_update_post_date, deleted from raw_clinicaltrials.studies "
        "order by nct_id, _dlt_load_id",
    )


def landed_ids(connection: ConnectionInfo) -> list[str]:
    return [nct_id for nct_id, _, deleted in raw_rows(connection) if not deleted]


# -- API paging and incremental -------------------------------------------------------


def test_pages_are_followed_by_next_page_token(database, studies_api: StudiesApi):
    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]

    result = land_source(database, "clinicaltrials")

    first, second = studies_api.search_requests
    assert "pageToken" not in first
    assert second["pageToken"] == json.loads(sample(PAGE1))["nextPageToken"]
    assert first["filter.advanced"] == "AREA[LastUpdatePostDate]RANGE[1999-01-01,MAX]"
    assert first["pageSize"] == "1000"
    assert landed_ids(database) == PHELAN_IDS
    assert result.rows == {"studies": 10}
    record = query(
        database,
        "select record #>> '{protocolSection,identificationModule,briefTitle}', source_uri "
        "from raw_clinicaltrials.studies where nct_id = 'NCT01525901'",
    )
    assert record == [
        ("Clinical Trial in 22q13 Deletion Syndrome(Phelan-McDermid Syndrome)", studies_api.url)
    ]


def test_full_pages_land_whole(database, studies_api: StudiesApi, monkeypatch):
    """Asked with pageSize=5, as the real first page was (it holds 5 studies), every
    page but the last is full, as the publisher's pages are: each of its studies lands
    (a batch as long as the page was once handed back and dropped)."""
    monkeypatch.setenv("SOURCES__CLINICALTRIALS__PAGE_SIZE", "5")
    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]

    result = land_source(database, "clinicaltrials")

    assert studies_api.search_requests[0]["pageSize"] == "5"
    assert result.rows == {"studies": 10}
    assert landed_ids(database) == PHELAN_IDS


def test_second_run_asks_only_for_studies_updated_since_the_cursor(
    database, studies_api: StudiesApi
):
    studies_api.pages.append(json_response(PAGE_DATED))
    land_source(database, "clinicaltrials")
    assert landed_ids(database) == DATED_IDS
    # The cursor lives in the warehouse: losing the local pipeline folder loses nothing.
    shutil.rmtree(load_settings().dlt_dir)

    studies_api.pages.append(json_response(PAGE_DATED))  # the replay ignores the filter
    second = land_source(database, "clinicaltrials")

    newest = "2022-11-21"  # NCT05594173, the newest study of the page
    assert max(date for _, date, _ in raw_rows(database)).isoformat() == newest
    assert studies_api.search_requests[-1]["filter.advanced"] == (
        "AREA[LastUpdatePostDate]RANGE[2022-11-20,MAX]"  # one day of overlap
    )
    # Only the study inside the overlap comes again: the same version, so raw does not
    # keep it twice (extract/versions.py).
    assert second.rows == {"studies": 0}
    assert second.repeated == {"studies": 1}
    assert sorted(landed_ids(database)) == DATED_IDS


# -- the publisher failing -------------------------------------------------------------


def test_429_with_retry_after_is_waited_out(database, studies_api: StudiesApi):
    studies_api.pages += [error_response(429, {"Retry-After": "1"}), json_response(PAGE_DATED)]

    land_source(database, "clinicaltrials")

    assert len(studies_api.search_requests) == 2
    assert studies_api.times[1] - studies_api.times[0] >= 0.95  # waited as told
    assert landed_ids(database) == DATED_IDS


def test_5xx_answers_are_retried(database, studies_api: StudiesApi):
    studies_api.pages += [
        error_response(503),
        error_response(502),
        error_response(500),
        json_response(PAGE_DATED),
    ]

    land_source(database, "clinicaltrials")

    assert len(studies_api.search_requests) == 4
    assert landed_ids(database) == DATED_IDS


def test_publisher_failing_past_the_retry_budget_stops_with_a_clear_error(
    database, studies_api: StudiesApi
):
    studies_api.pages += [error_response(503) for _ in range(4)]

    with pytest.raises(PublisherUnavailable) as failure:
        land_source(database, "clinicaltrials")

    message = str(failure.value)
    assert message.startswith("clinicaltrials: page 1 of studies updated 1999-01-01 to now")
    assert "503 after 4 attempts" in message
    assert failure.value.retryable
    assert len(studies_api.search_requests) == 4


def test_malformed_page_fails_naming_source_and_page_and_keeps_what_landed(
    database, studies_api: StudiesApi
):
    studies_api.pages.append(json_response(PAGE_DATED))
    land_source(database, "clinicaltrials")
    before = raw_rows(database)

    truncated = sample(PAGE_DATED)[:5000]  # the page cut off mid-document
    studies_api.pages.append(Response(truncated, content_type="application/json"))
    with pytest.raises(MalformedInput) as failure:
        land_source(database, "clinicaltrials")

    assert str(failure.value).startswith(
        "clinicaltrials: page 1 of studies updated 2022-11-20 to now: "
        f"the response of {studies_api.url}"
    )
    assert "is not JSON" in str(failure.value)
    assert raw_rows(database) == before
    # The cursor did not move: the next run asks for the same window again.
    studies_api.pages.append(json_response(PAGE_DATED))
    land_source(database, "clinicaltrials")
    assert studies_api.search_requests[-1]["filter.advanced"].startswith(
        "AREA[LastUpdatePostDate]RANGE[2022-11-20,"
    )


# -- a killed process --------------------------------------------------------------------

LAND_IN_CHILD = """
from extract.bulk import Outcome, signature
from extract.clinicaltrials import clinicaltrials
from extract.landing import land, pipeline_for
from medmirror.settings import load_settings
from medmirror.warehouse import resolve_connection
settings = load_settings()
pipeline = pipeline_for("clinicaltrials", resolve_connection(settings), settings.dlt_dir)
land(pipeline, clinicaltrials)
"""


def test_run_killed_after_first_page_then_rerun_lands_every_study_once(
    database, studies_api: StudiesApi
):
    page2_asked = threading.Event()
    release = threading.Event()

    def hang_on_page2() -> Response:
        page2_asked.set()
        release.wait(60)
        return json_response(PAGE2_LAST)

    studies_api.pages += [json_response(PAGE1), hang_on_page2]
    child = subprocess.Popen([sys.executable, "-c", LAND_IN_CHILD], env=dict(os.environ))
    try:
        assert page2_asked.wait(120), "the child never asked for page 2"
        child.kill()  # SIGKILL: no cleanup of any kind
        child.wait(30)
    finally:
        release.set()

    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]
    land_source(database, "clinicaltrials")

    assert landed_ids(database) == PHELAN_IDS  # each once: nothing of the killed run landed


# -- re-sync: deletions ----------------------------------------------------------------


def test_resync_lands_a_deletion_for_a_study_the_api_no_longer_returns(
    database, studies_api: StudiesApi, monkeypatch: pytest.MonkeyPatch
):
    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]
    land_source(database, "clinicaltrials")
    monkeypatch.setenv("SOURCES__CLINICALTRIALS__RECHECK_DAYS", "1")  # every study this run
    monkeypatch.delenv("SOURCES__CLINICALTRIALS__RESYNC_BATCH", raising=False)  # no cap
    studies_api.resyncs.append(json_response(RESYNC_WITHOUT_ONE))

    settings = load_settings()
    pipeline = pipeline_for("clinicaltrials", database, settings.dlt_dir)
    land(pipeline, lambda: clinicaltrials().with_resources("studies_resync"))

    (asked,) = [args for args in studies_api.requests if "filter.ids" in args]
    assert asked["filter.ids"].split(",") == PHELAN_IDS
    assert asked["fields"] == "NCTId"
    deletions = [nct_id for nct_id, _, deleted in raw_rows(database) if deleted]
    assert deletions == ["NCT01525901"]


def test_every_stored_study_is_rechecked_within_the_configured_days(
    database, studies_api: StudiesApi, monkeypatch: pytest.MonkeyPatch
):
    """Each run re-checks the studies left in the cycle divided by the days it has left:
    10 stored studies and 2 days: 5 today; with a day left, the other 5."""
    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]
    land_source(database, "clinicaltrials")
    pipeline = pipeline_for("clinicaltrials", database, load_settings().dlt_dir)

    def recheck(days: int) -> list[str]:
        monkeypatch.setenv("SOURCES__CLINICALTRIALS__RECHECK_DAYS", str(days))
        monkeypatch.delenv("SOURCES__CLINICALTRIALS__RESYNC_BATCH", raising=False)  # no cap
        studies_api.resyncs.append(json_response(RESYNC_WITHOUT_ONE))
        land(pipeline, lambda: clinicaltrials().with_resources("studies_resync"))
        return [args for args in studies_api.requests if "filter.ids" in args][-1][
            "filter.ids"
        ].split(",")

    assert recheck(2) == PHELAN_IDS[:5]
    assert recheck(1) == PHELAN_IDS[5:]
    deletions = [nct_id for nct_id, _, deleted in raw_rows(database) if deleted]
    assert deletions == ["NCT01525901"]


def test_resync_refuses_to_delete_most_of_a_batch(
    database, studies_api: StudiesApi, monkeypatch: pytest.MonkeyPatch
):
    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]
    land_source(database, "clinicaltrials")
    monkeypatch.setenv("SOURCES__CLINICALTRIALS__RECHECK_DAYS", "1")  # every study this run
    monkeypatch.delenv("SOURCES__CLINICALTRIALS__RESYNC_BATCH", raising=False)  # no cap
    # A real page holding none of the ten studies asked for: the API failing, not deletion.
    studies_api.resyncs.append(json_response("clinicaltrials/studies_page1_full_pagesize1.json"))

    settings = load_settings()
    pipeline = pipeline_for("clinicaltrials", database, settings.dlt_dir)
    with pytest.raises(MalformedInput, match="10 of 10 stored studies missing"):
        land(pipeline, lambda: clinicaltrials().with_resources("studies_resync"))
    assert not [row for row in raw_rows(database) if row[2]]


# -- bulk files --------------------------------------------------------------------------


def zip_of_samples(target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((SAMPLES_DIR / "clinicaltrials").glob("*.json")):
            archive.write(path, f"ctg-studies/{path.name}")
    return target


def test_bulk_zip_lands_every_study_in_windows_and_skips_an_unchanged_release(
    database, tmp_path: Path
):
    archive = zip_of_samples(tmp_path / "ctg-studies.json.zip")

    first = land_source(
        database, "clinicaltrials", bulk_location=str(archive), bulk_studies_per_window=5
    )

    assert first.windows >= 3  # committed in windows of at least five studies
    ids = landed_ids(database)
    assert len(ids) == len(set(ids)) == 19
    uris = {row[0] for row in query(database, "select source_uri from raw_clinicaltrials.studies")}
    assert f"{archive}!ctg-studies/study_NCT00763412.json" in uris

    again = land_source(database, "clinicaltrials", bulk_location=str(archive))
    assert again.total_rows == 0
    assert len(landed_ids(database)) == 19
    # Unchanged: every file of the release is accounted for as already landed.
    members = len(list((SAMPLES_DIR / "clinicaltrials").glob("*.json")))
    assert again.files.count(Outcome.ALREADY_LANDED) == members == len(again.files.files)


def test_bulk_folder_lands_only_studies_updated_since_the_last_release(database, tmp_path: Path):
    release = tmp_path / "release"
    release.mkdir()
    shutil.copy(SAMPLES_DIR / "clinicaltrials" / "study_NCT03475563.json", release)
    shutil.copy(SAMPLES_DIR / "clinicaltrials" / "study_NCT00973089.json", release)
    land_source(database, "clinicaltrials", bulk_location=str(release))

    # The next release: one study changed (a later version), the other as before.
    later = sample("clinicaltrials/derived/study_NCT03475563_later_version.json")
    (release / "study_NCT03475563.json").write_bytes(later)
    second = land_source(database, "clinicaltrials", bulk_location=str(release))

    assert second.rows == {"studies": 1}
    assert raw_rows(database)[-1][:2] == ("NCT03475563", date(2020, 3, 2))
    files = {uri.split("/")[-1]: found for uri, found in second.files.files.items()}
    assert (files["study_NCT03475563.json"].outcome, files["study_NCT03475563.json"].rows) == (
        Outcome.LANDED,
        1,
    )
    assert files["study_NCT00973089.json"].outcome == Outcome.ALREADY_LANDED


def test_every_file_offered_is_accounted_for(database, tmp_path: Path):
    release = tmp_path / "release"
    release.mkdir()
    for name in ("study_NCT03475563.json", "studies_page2_phelan_pagesize5.json"):
        shutil.copy(SAMPLES_DIR / "clinicaltrials" / name, release)
    (release / "README.txt").write_text("ClinicalTrials.gov download, saved weekly\n")
    # Another publisher's JSON (an openFDA partition) and a real PubMed XML: neither is a
    # study nor a page of studies.
    shutil.copy(SAMPLES_DIR / "openfda" / "constructed-drug-ndc-0001-of-0001.json.zip", release)
    shutil.copy(SAMPLES_DIR / "pubmed" / "efetch_pubmed_11748933.xml", release)

    result = land_source(database, "clinicaltrials", bulk_location=str(release))

    outcomes = {uri.split("/")[-1]: found.outcome for uri, found in result.files.files.items()}
    assert outcomes == {
        "README.txt": Outcome.NOT_RELEASE_FILE,
        "constructed-drug-ndc-0001-of-0001.json.zip!drug-ndc-0001-of-0001.json": (
            Outcome.NOT_RELEASE_FILE
        ),
        "efetch_pubmed_11748933.xml": Outcome.NOT_RELEASE_FILE,
        "studies_page2_phelan_pagesize5.json": Outcome.LANDED,
        "study_NCT03475563.json": Outcome.LANDED,
    }
    assert len(landed_ids(database)) == 6  # one study and a page of five

    again = land_source(database, "clinicaltrials", bulk_location=str(release))

    assert again.total_rows == 0
    assert again.files.count(Outcome.ALREADY_LANDED) == 2
    assert again.files.count(Outcome.NOT_RELEASE_FILE) == 3


def test_an_upgrade_keeps_the_release_the_older_ledger_landed(database):
    archive = SAMPLES_DIR / "clinicaltrials"
    # The state medmirror's own ClinicalTrials.gov ledger kept before BulkLedger: the
    # signature of the release it landed last (names, sizes and times of its JSON files).
    landed = signature(archive, source="clinicaltrials", suffixes=(".json",))
    write_legacy_state(
        database,
        "clinicaltrials",
        "studies_bulk",
        {"landed_release": landed, "since": "2024-09-01"},
    )

    result = land_source(database, "clinicaltrials", bulk_location=str(archive))

    assert result.total_rows == 0
    assert result.files.count(Outcome.ALREADY_LANDED) == len(list(archive.glob("*.json")))
    assert result.files.files[str(archive / "PROVENANCE.md")].outcome == (Outcome.NOT_RELEASE_FILE)
