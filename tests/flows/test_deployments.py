"""`prefect deployment run 'refresh/daily'` through a real Prefect server and `medmirror serve`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import requests

from flows.deployments import deployments
from flows.sources import SOURCES
from tests.conftest import StudiesApi, json_response, query
from tests.extract.openfda_publisher import OpenFdaPublisher
from tests.extract.test_clinicaltrials import PAGE1, PAGE2_LAST
from tests.extract.test_dailymed import DailyMedApi, constructed
from tests.extract.test_faers import EVENTS_PATH, event
from tests.extract.test_medlineplus import TOPICS_FILE
from tests.extract.test_openfda import LABEL_PATH, NDC_PATH, OpenFdaApi
from tests.extract.test_openfda import page as openfda_page
from tests.extract.test_orangebook import EXCERPT, ReleaseServer, release_server  # noqa: F401
from tests.extract.test_pubmed import EutilsApi, eutils, queue_five_articles  # noqa: F401
from tests.extract.test_rxnav import RxNavReplay

BIN = Path(sys.executable).parent


def test_deployments_cover_daily_weekly_full_and_each_source():
    by_name = {deployment.name: deployment for deployment in deployments()}

    assert set(by_name) == {"daily", "monthly", "weekly-full", *SOURCES}
    monthly = [name for name, spec in SOURCES.items() if spec.cadence == "monthly"]
    assert {"orangebook", "fooddata"} <= set(monthly)
    assert by_name["daily"].parameters == {
        "sources": [name for name in SOURCES if name not in monthly],
        "full": False,
    }
    # The monthly run finds new releases on the publishers' pages, FAERS's quarters too;
    # the daily run asks FAERS's API only.
    assert by_name["monthly"].parameters == {
        "sources": [*monthly, "faers"],
        "full": False,
        "quarters": True,
    }
    assert {"icd10cm", "hcpcs"} <= set(monthly)
    assert by_name["monthly"].schedules[0].schedule.cron == "0 6 1,15 * *"
    assert by_name["weekly-full"].parameters == {"full": True}
    assert by_name["clinicaltrials"].parameters == {"sources": ["clinicaltrials"]}
    assert by_name["daily"].schedules[0].schedule.cron == "0 5 * * *"


@pytest.fixture
def drug_and_consumer_publishers(httpserver, monkeypatch: pytest.MonkeyPatch) -> None:
    """DailyMed, openFDA (labels, NDC, events), MedlinePlus and RxNav replayed on
    127.0.0.1, each answering one run from its source's real or derived fixtures."""
    for source in ("DAILYMED", "OPENFDA", "FAERS", "MEDLINEPLUS", "RXNAV"):
        monkeypatch.setenv(f"SOURCES__{source}__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")

    dailymed = DailyMedApi(httpserver)
    dailymed.lists += [constructed("spls_page1_constructed.json")] + [
        constructed("spls_page2_constructed.json")
    ]
    dailymed.classes += [constructed("drugclasses_page1_constructed.json")] + [
        constructed("drugclasses_page2_constructed.json")
    ]
    monkeypatch.setenv("SOURCES__DAILYMED__API_URL", dailymed.base)
    monkeypatch.setenv("SOURCES__DAILYMED__PAGE_SIZE", "3")
    monkeypatch.setenv("SOURCES__DAILYMED__START_DATE", "2010-01-01")

    openfda = OpenFdaApi(httpserver)
    openfda.queues[LABEL_PATH].append(openfda_page("label_page2.constructed.json"))
    openfda.queues[NDC_PATH].append(openfda_page("ndc_page1.constructed.json"))
    monkeypatch.setenv("SOURCES__OPENFDA__LABEL_URL", openfda.url(LABEL_PATH))
    monkeypatch.setenv("SOURCES__OPENFDA__NDC_URL", openfda.url(NDC_PATH))
    monkeypatch.setenv("SOURCES__OPENFDA__LABEL_WINDOW_DAYS", "100000")
    monkeypatch.setenv("SOURCES__OPENFDA__NDC_WINDOW_DAYS", "100000")

    today = date.today()
    events = OpenFdaPublisher(httpserver, EVENTS_PATH, as_of=today)
    events.records = [event("9000001", "1", today), event("9000002", "1", today)]
    monkeypatch.setenv("SOURCES__FAERS__API_URL", events.url)
    monkeypatch.setenv("SOURCES__FAERS__START_DATE", today.isoformat())

    httpserver.expect_request("/medlineplus/xml.html").respond_with_data(
        f'<html><body><a href="xml/{TOPICS_FILE.name}">Health topics XML</a></body></html>',
        content_type="text/html",
    )
    httpserver.expect_request(f"/medlineplus/xml/{TOPICS_FILE.name}").respond_with_data(
        TOPICS_FILE.read_bytes(), content_type="text/xml"
    )
    monkeypatch.setenv(
        "SOURCES__MEDLINEPLUS__XML_PAGE_URL", httpserver.url_for("/medlineplus/xml.html")
    )

    monkeypatch.setenv("SOURCES__RXNAV__API_URL", RxNavReplay(httpserver).url)


@pytest.mark.long
def test_daily_and_orange_book_deployments_run_to_completed(
    database,
    studies_api: StudiesApi,
    eutils: EutilsApi,  # noqa: F811
    release_server: ReleaseServer,  # noqa: F811
    drug_and_consumer_publishers: None,
    prefect_server: str,
    tmp_path: Path,
):
    """Every daily source and the Orange Book refreshed from their publishers, replayed on
    127.0.0.1, by the served deployments (registered on the run's Prefect server, which
    no other test gives deployments)."""
    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]
    queue_five_articles(eutils)
    release_server.serve(EXCERPT)
    env = dict(
        os.environ,
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_API_URL=prefect_server,
        PREFECT_RUNNER_POLL_FREQUENCY="2",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    serve = None
    try:
        serve_log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - closed with the process
        serve = subprocess.Popen(
            [BIN / "medmirror", "serve"], env=env, stdout=serve_log, stderr=subprocess.STDOUT
        )
        runs = {}
        # The Orange Book's own deployment first (the monthly one also reaches code sets
        # and population sources, each tested against its replay elsewhere), then the
        # daily one: RxNav enriches what the Orange Book landed.
        for name in ("orangebook", "daily"):
            _wait_for_deployment(prefect_server, "refresh", name, serve)
            runs[name] = subprocess.run(
                [
                    BIN / "prefect",
                    "deployment",
                    "run",
                    f"refresh/{name}",
                    "--watch",
                    "--watch-timeout",
                    "300",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=360,
            )
    finally:
        if serve is not None:
            serve.send_signal(signal.SIGINT)
            try:
                serve.wait(30)
            except subprocess.TimeoutExpired:
                serve.kill()

    for run in runs.values():
        assert run.returncode == 0, run.stdout + (tmp_path / "serve.log").read_text()
        assert "Completed" in run.stdout
    assert query(database, "select count(*) from marts.clinical_trials") == [(10,)]
    assert query(database, "select count(*) from marts.pubmed_articles") == [(5,)]
    assert query(database, "select count(*) from marts.orange_book_products") == [(300,)]
    assert query(database, "select count(*) from marts.health_topics") == [(2,)]
    assert query(database, "select count(*) from raw_dailymed.labels") == [(6,)]
    assert query(database, "select count(*) from raw_faers.events") == [(2,)]
    assert query(database, "select count(*) from raw_openfda.ndc") > [(0,)]
    assert query(database, "select count(*) from raw_rxnav.name_rxcuis") > [(0,)]
    assert query(database, "select source, succeeded from ops.refresh_runs order by 1") == [
        (name, True) for name in sorted(["orangebook", *by_name_daily()])
    ]


def _wait_for_deployment(
    api: str, flow: str, name: str, process: subprocess.Popen, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "medmirror serve exited"
        answer = requests.get(f"{api}/deployments/name/{flow}/{name}", timeout=5)
        if answer.ok:
            return
        time.sleep(0.5)
    raise TimeoutError(f"deployment {flow}/{name} never appeared")


def by_name_daily() -> list[str]:
    return [name for name, spec in SOURCES.items() if spec.cadence == "daily"]
