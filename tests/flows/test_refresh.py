"""The `refresh` flow under a real (temporary) Prefect API, on real samples."""

from __future__ import annotations

import pytest
from prefect.states import Completed, Failed
from werkzeug import Response

from extract.bulk import FileAccount, OfferedFile, Outcome
from extract.errors import MalformedInput, PublisherUnavailable
from extract.landing import LandingResult
from flows.ops import RefreshAlreadyRunning, refresh_lock
from flows.refresh import _retry_if_transient, refresh, way_in
from medmirror.settings import SAMPLES_DIR
from tests.conftest import StudiesApi, json_response, query
from tests.extract.test_clinicaltrials import PAGE1, PAGE2_LAST, PHELAN_IDS


def test_refresh_from_bulk_files_lands_builds_and_logs_the_run(new_database, prefect_server):
    database = new_database  # a new warehouse: the refresh also builds what its marts read
    landed = refresh(sources=["clinicaltrials"], bulk=str(SAMPLES_DIR / "clinicaltrials"))

    assert landed["clinicaltrials"]["rows"] == {"studies": 19}
    assert query(database, "select count(*) from marts.clinical_trials") == [(19,)]
    assert query(
        database,
        "select source, succeeded, rows_landed, error from ops.refresh_runs",
    ) == [("clinicaltrials", True, 19, None)]


def test_what_a_refresh_landed_without_a_build_is_built_by_the_next_refresh(
    database, prefect_server, caplog
):
    """`refresh --no-dbt` (or a refresh killed in its build, which records its landing
    before building), then a refresh that finds nothing new: the marts are built from
    what the first landed, once."""
    samples = str(SAMPLES_DIR / "clinicaltrials")
    refresh(sources=["clinicaltrials"], bulk=samples, run_dbt=False)
    assert query(database, "select count(*) from marts.clinical_trials") == [(0,)]

    again = refresh(sources=["clinicaltrials"], bulk=samples)

    assert again["clinicaltrials"]["rows"] == {}  # every file already landed
    assert "clinicaltrials: built now what an earlier run landed" in caplog.text
    assert query(database, "select count(*) from marts.clinical_trials") == [(19,)]
    assert query(
        database, "select rows_landed, built_at is not null from ops.refresh_runs order by run_id"
    ) == [(19, True), (0, False)]
    caplog.clear()

    refresh(sources=["clinicaltrials"], bulk=samples)

    assert "built now" not in caplog.text
    assert "clinicaltrials: nothing new landed" in caplog.text


def test_refresh_from_the_api_then_incrementally(database, studies_api: StudiesApi, prefect_server):
    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]
    refresh(sources=["clinicaltrials"])
    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]
    refresh(sources=["clinicaltrials"])

    # These pages carry no update dates, so every study comes again: the same versions,
    # which raw keeps once (extract/versions.py); the mart has one row per study.
    assert query(database, "select count(*) from raw_clinicaltrials.studies") == [(10,)]
    ids = [row[0] for row in query(database, "select nct_id from marts.clinical_trials order by 1")]
    assert ids == PHELAN_IDS


def test_a_malformed_page_fails_the_refresh_without_retrying(
    database, studies_api: StudiesApi, prefect_server
):
    studies_api.pages.append(Response(b'{"studies": [', content_type="application/json"))

    with pytest.raises(RuntimeError, match="clinicaltrials: page 1 of studies updated"):
        refresh(sources=["clinicaltrials"])

    assert len(studies_api.search_requests) == 1  # neither the client nor the task retried
    (run,) = query(database, "select succeeded, rows_landed, error from ops.refresh_runs")
    assert run[0] is False and run[1] == 0
    assert "not JSON" in run[2]


def test_only_transient_failures_are_retried():
    unavailable = PublisherUnavailable("clinicaltrials", "page 1", "503 after 6 attempts")
    malformed = MalformedInput("clinicaltrials", "page 1", "not JSON")
    assert _retry_if_transient(None, None, Failed(data=unavailable)) is True
    assert _retry_if_transient(None, None, Failed(data=malformed)) is False
    assert _retry_if_transient(None, None, Failed(data=ValueError("bug"))) is False
    assert _retry_if_transient(None, None, Completed(data=None)) is False


def test_the_way_in_names_the_bulk_location_the_page_or_the_release_url():
    def run(account: FileAccount | None) -> LandingResult:
        return LandingResult(source="orangebook", files=account)

    orange_book = FileAccount("orangebook")
    orange_book.fetched("https://www.fda.gov/media/76860/download")
    orange_book.record(OfferedFile("/data/orangebook/download.zip!products.txt", Outcome.LANDED))
    update_files = FileAccount("pubmed")
    update_files.read_page("https://ftp.ncbi.nlm.nih.gov/pubmed/updatefiles/")
    update_files.fetched("https://ftp.ncbi.nlm.nih.gov/pubmed/updatefiles/pubmed26n1335.xml.gz")

    assert way_in(run(orange_book), bulk="/mnt/releases") == "/mnt/releases"
    assert way_in(run(update_files), bulk=None) == (
        "releases page https://ftp.ncbi.nlm.nih.gov/pubmed/updatefiles/"
    )
    assert way_in(run(orange_book), bulk=None) == (
        "release files https://www.fda.gov/media/76860/download"
    )
    assert way_in(run(FileAccount("openfda")), bulk=None) == "api"
    assert way_in(run(None), bulk=None) == "api"


def test_a_second_refresh_is_refused_while_one_runs(database, prefect_server):
    with refresh_lock(database):
        with pytest.raises(RefreshAlreadyRunning, match="another refresh is running"):
            refresh(sources=["clinicaltrials"], bulk=str(SAMPLES_DIR / "clinicaltrials"))
    assert query(database, "select count(*) from raw_clinicaltrials.studies") == [(0,)]


def test_bulk_needs_exactly_one_source(database, prefect_server):
    with pytest.raises(ValueError, match="exactly one"):
        refresh(sources=["clinicaltrials", "clinicaltrials"], bulk="/nowhere")


def test_bad_bulk_files_are_counted_in_the_run_summary(database, prefect_server, tmp_path):
    from tests.extract.test_bad_files import release_with_bad_files

    folder = tmp_path / "release"
    bad = release_with_bad_files(folder)

    landed = refresh(sources=["clinicaltrials"], bulk=str(folder))

    assert landed["clinicaltrials"]["rejected"] == len(bad)
    assert query(database, "select rows_landed, rejected from ops.refresh_runs") == [(3, len(bad))]
    assert query(database, "select count(*) from marts.clinical_trials") == [(3,)]


def test_the_monthly_run_lands_new_releases_found_on_the_publishers_pages(
    database, prefect_server, httpserver, monkeypatch
):
    """The monthly deployment's parameters (`quarters`), two sources: HCPCS finds its newest
    release on CMS's page, FAERS the quarters on FDA's page (openFDA is not asked: no
    replay of it exists here)."""
    from tests.extract.test_discovery import (
        FAERS_2017Q2,
        FAERS_PAGE,
        HCPCS_2019,
        HCPCS_PAGE,
        IndexPage,
        serve_zips,
    )

    monkeypatch.setenv("SOURCES__HCPCS__RELEASES_PAGE_URL", httpserver.url_for(HCPCS_PAGE))
    monkeypatch.setenv("SOURCES__FAERS__QUARTERS_PAGE_URL", httpserver.url_for(FAERS_PAGE))
    serve_zips(httpserver, {"2019-alpha-numeric-hcpcs-file.zip": HCPCS_2019})
    httpserver.expect_request("/content/Exports/faers_ascii_2017q2.zip").respond_with_data(
        FAERS_2017Q2.read_bytes(), content_type="application/zip"
    )
    IndexPage(httpserver, HCPCS_PAGE, "cms_hcpcs_quarterly_update_2019.html")
    IndexPage(httpserver, FAERS_PAGE, "fda_faers_quarterly_2017q2.html")

    landed = refresh(sources=["hcpcs", "faers"], quarters=True, run_dbt=False)

    assert landed["hcpcs"]["rows"] == {"codes": 6_800}
    assert landed["faers"]["rows"]["demo"] == 100
    # The way in names the page each found its files on, and the files' rows reconcile.
    assert query(
        database, "select source, way_in, succeeded from ops.refresh_runs order by source"
    ) == [
        ("faers", "releases page " + httpserver.url_for(FAERS_PAGE), True),
        ("hcpcs", "releases page " + httpserver.url_for(HCPCS_PAGE), True),
    ]
    faers_rows = sum(landed["faers"]["rows"].values()) + landed["faers"]["rejected"]
    assert query(
        database,
        "select source, resource, publisher_count, mirror_count from ops.reconciliation "
        "order by source",
    ) == [
        ("faers", "release files", faers_rows, sum(landed["faers"]["rows"].values())),
        ("hcpcs", "release files", 6_800, 6_800),
    ]
