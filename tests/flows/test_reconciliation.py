"""Counts reconcile and status tells the truth: `ops.reconciliation` after refreshes of
openFDA replayed as a publisher whose data changes between runs (real meta, paging and
error shapes: tests/extract/openfda_publisher.py), and the verdicts `medmirror status`
gives."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from flows.reconcile import Reconciliation
from flows.refresh import refresh
from flows.sources import spec_of
from flows.status import FreshnessRule, SourceStatus, source_status, verdict
from medmirror.settings import SAMPLES_DIR
from tests.conftest import StudiesApi, json_response, query
from tests.extract.openfda_publisher import OpenFdaPublisher
from tests.extract.test_clinicaltrials import PAGE1, PAGE2_LAST
from tests.extract.test_openfda import FIXTURES, LABEL_PATH, NDC_PATH


def results(name: str) -> list[dict]:
    return json.loads((FIXTURES / name).read_text())["results"]


@pytest.fixture
def openfda(httpserver, monkeypatch: pytest.MonkeyPatch) -> dict[str, OpenFdaPublisher]:
    label = OpenFdaPublisher(httpserver, LABEL_PATH, as_of=date(2015, 10, 29))
    ndc = OpenFdaPublisher(httpserver, NDC_PATH, as_of=date(2018, 7, 30))
    label.records = results("label_page1.constructed.json")
    ndc.records = results("ndc_page1.constructed.json")
    monkeypatch.setenv("SOURCES__OPENFDA__LABEL_URL", label.url)
    monkeypatch.setenv("SOURCES__OPENFDA__NDC_URL", ndc.url)
    monkeypatch.setenv("SOURCES__OPENFDA__LABEL_WINDOW_DAYS", "100000")  # one window
    monkeypatch.setenv("SOURCES__OPENFDA__NDC_WINDOW_DAYS", "100000")
    monkeypatch.setenv("SOURCES__OPENFDA__REQUESTS_PER_SECOND", "0")
    return {"label": label, "ndc": ndc}


def reconciliation(database) -> list[tuple]:
    return query(
        database,
        "select resource, publisher_count, mirror_count, publisher_as_of, mirror_as_of "
        "from ops.reconciliation where source = 'openfda' order by checked_at, resource",
    )


def test_counts_reconcile_after_every_refresh_and_a_withdrawn_label_diverges(
    database, openfda, prefect_server, monkeypatch
):
    """Labels in 1,500-day windows: an incremental sweep reads only the window whose total
    changed, so it is no complete listing and lands no deletion notice; `--full` is."""
    monkeypatch.setenv("SOURCES__OPENFDA__LABEL_START_DATE", "2010-01-01")
    monkeypatch.setenv("SOURCES__OPENFDA__LABEL_WINDOW_DAYS", "1500")
    label = openfda["label"]
    landed = refresh(sources=["openfda"], run_dbt=False)

    assert landed["openfda"]["reconciliation"] == [
        {"counted": "labels (one version per set id)", "publisher_count": 2, "mirror_count": 2},
        {"counted": "NDC products", "publisher_count": 2, "mirror_count": 2},
    ]
    assert reconciliation(database) == [
        ("labels", 2, 2, date(2015, 10, 29), date(2015, 10, 29)),
        ("ndc", 2, 2, date(2018, 7, 30), date(2018, 7, 30)),
    ]
    status = source_status(database, spec_of("openfda"))
    assert (status.verdict, status.why) == ("fresh", None)
    assert status.publisher_as_of == date(2018, 7, 30)
    assert status.counts() == "labels: 2 / 2; ndc: 2 / 2"

    # openFDA's next publication no longer lists one label (withdrawn): the mirror
    # still holds it (no deletion notice lands for it yet), so the counts diverge.
    label.records = label.records[:1]
    label.as_of = date(2015, 11, 5)
    refresh(sources=["openfda"], run_dbt=False)

    assert reconciliation(database)[2:] == [
        ("labels", 1, 2, date(2015, 11, 5), date(2015, 11, 5)),
        ("ndc", 2, 2, date(2018, 7, 30), date(2018, 7, 30)),
    ]
    status = source_status(database, spec_of("openfda"))
    assert status.verdict == "diverged"
    assert status.why == "labels (one version per set id): publisher 1, mirror 2"

    # A full refresh reads every window whole: the withdrawn label's deletion notice
    # lands, and the counts agree again.
    refresh(sources=["openfda"], full=True, run_dbt=False)

    assert reconciliation(database)[4:] == [
        ("labels", 1, 1, date(2015, 11, 5), date(2015, 11, 5)),
        ("ndc", 2, 2, date(2018, 7, 30), date(2018, 7, 30)),
    ]
    assert source_status(database, spec_of("openfda")).verdict == "fresh"


def test_a_bulk_refresh_reconciles_the_release_files_rows(database, prefect_server):
    refresh(sources=["clinicaltrials"], bulk=str(SAMPLES_DIR / "clinicaltrials"), run_dbt=False)

    assert query(
        database,
        "select resource, publisher_count, mirror_count from ops.reconciliation "
        "where source = 'clinicaltrials'",
    ) == [("release files", 19, 19)]
    assert source_status(database, spec_of("clinicaltrials")).verdict == "fresh"


NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
DAILY = FreshnessRule(warn_after=timedelta(days=2), error_after=timedelta(days=4))


def status_of(loaded_days_ago: float | None, *rows: Reconciliation) -> SourceStatus:
    loaded = None if loaded_days_ago is None else NOW - timedelta(days=loaded_days_ago)
    return SourceStatus("openfda", loaded, None, 0, reconciliation=list(rows))


def counted(publisher: int | None, mirror: int | None, as_of=None, landed=None):
    return Reconciliation(
        "openfda", "labels", NOW, publisher, mirror, "labels", "meta", as_of, landed
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (status_of(None), "never loaded"),
        (status_of(1, counted(5, 5)), "fresh"),
        (status_of(1), "fresh"),  # nothing to reconcile: the load's age decides
        (status_of(3, counted(5, 5)), "stale"),  # past warn_after
        (status_of(1, counted(5, 4)), "diverged"),
        (status_of(1, counted(None, 4)), "fresh"),  # no count published
        # The publisher published anew; the mirror has not landed it whole yet.
        (status_of(1, counted(5, 5, date(2026, 12, 1), date(2026, 11, 24))), "stale"),
        (status_of(1, counted(5, 5, date(2026, 12, 1), date(2026, 12, 1))), "fresh"),
    ],
)
def test_verdicts(status: SourceStatus, expected: str):
    assert verdict(status, DAILY, NOW)[0] == expected


def test_clinicaltrials_total_count_against_the_studies_landed(
    database, studies_api: StudiesApi, prefect_server
):
    """The real first page states `totalCount` 21; the replay's second (last) page is
    derived and cut short, so 10 studies land: the counts diverge, as they should."""
    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]

    refresh(sources=["clinicaltrials"], run_dbt=False)

    assert studies_api.search_requests[0]["countTotal"] == "true"
    assert "countTotal" not in studies_api.search_requests[1]
    assert query(
        database,
        "select resource, publisher_count, mirror_count, counted from ops.reconciliation "
        "where source = 'clinicaltrials'",
    ) == [("studies", 21, 10, "studies last updated 1999-01-01 or later")]
    status = source_status(database, spec_of("clinicaltrials"))
    assert status.verdict == "diverged"
    assert status.counts() == "studies: 21 / 10"
