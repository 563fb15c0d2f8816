"""An API key never appears in logs, run summaries, Prefect parameters, error messages or
files medmirror writes. The key is a marker that no other text contains."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from werkzeug import Response

from extract.errors import PublisherUnavailable, RequestRejected
from extract.http import PublisherClient
from flows.refresh import refresh
from medmirror.settings import load_settings
from tests.conftest import StudiesApi, error_response, json_response, query
from tests.extract.test_clinicaltrials import PAGE1, PAGE2_LAST
from tests.extract.test_drugcentral import drugcentral_db  # noqa: F401 - a fixture

MARKER = "mm-secret-marker-7f3a9c41"


@pytest.fixture
def api_key(monkeypatch) -> str:
    monkeypatch.setenv("SOURCES__CLINICALTRIALS__API_KEY", MARKER)
    return MARKER


def echo_rejection() -> Response:
    """A publisher that rejects the key and quotes it back, as some do."""
    return Response(f"invalid api_key={MARKER}: not authorised", status=403)


def test_the_key_reaches_the_publisher_and_nothing_else(
    database, studies_api: StudiesApi, api_key, prefect_server, capfd, caplog
):
    caplog.set_level(logging.DEBUG)  # urllib3 logs each request's URL at DEBUG
    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]
    refresh(sources=["clinicaltrials"])
    assert [args["api_key"] for args in studies_api.search_requests] == [MARKER, MARKER]

    studies_api.pages.append(echo_rejection)
    with pytest.raises(RuntimeError) as failure:
        refresh(sources=["clinicaltrials"])
    assert "403" in str(failure.value)

    seen = [str(failure.value)]
    out, err = capfd.readouterr()
    # Every log record but the replay server's own access log (the publisher's side).
    seen += [out, err]
    seen += [record.getMessage() for record in caplog.records if record.name != "werkzeug"]
    seen += [
        json.dumps(row, default=str) for row in query(database, "select * from ops.refresh_runs")
    ]
    seen += prefect_records()
    seen += [
        path.read_bytes().decode(errors="replace") for path in files_under(load_settings().data_dir)
    ]
    leaks = [text[:200] for text in seen if MARKER in text]
    assert not leaks
    assert len(seen) > 10  # the scan covered logs, runs, Prefect records and files


def test_errors_after_the_retry_budget_hide_the_key(studies_api: StudiesApi, api_key):
    client = PublisherClient("clinicaltrials")
    studies_api.pages += [error_response(503) for _ in range(4)]
    with pytest.raises(PublisherUnavailable) as unavailable:
        client.get(studies_api.url, params={"format": "json"}, what="page 1")
    studies_api.pages.append(echo_rejection)
    with pytest.raises(RequestRejected) as rejected:
        client.get(studies_api.url, what="page 1")

    assert "api_key=***" in str(unavailable.value)
    assert MARKER not in str(unavailable.value) + str(rejected.value)


def prefect_records() -> list[str]:
    """Every flow run's parameters and every log line the Prefect API holds."""
    from prefect.client.orchestration import get_client

    async def read() -> list[str]:
        async with get_client() as client:
            runs = await client.read_flow_runs()
            logs = await client.read_logs()
        return [json.dumps(run.parameters, default=str) for run in runs] + [
            log.message for log in logs
        ]

    return asyncio.run(read())


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_a_bulk_password_is_used_but_never_stored(
    database,
    drugcentral_db,  # noqa: F811 - the fixture imported above
    prefect_server,
    monkeypatch,
    caplog,
):
    """`medmirror refresh --bulk` with a database URL holding a password: the extract
    logs in with it, and neither the run log nor Prefect's flow-run parameters keep it."""
    from typer.testing import CliRunner

    from flows.cli import app

    password = drugcentral_db.password
    monkeypatch.setenv("SOURCES__DRUGCENTRAL__BULK_PASSWORD", "")  # restored after the test
    url = drugcentral_db.url()
    assert password in url

    outcome = CliRunner().invoke(
        app, ["refresh", "--source", "drugcentral", "--no-dbt", "--bulk", url]
    )

    assert outcome.exit_code == 0, outcome.output
    ((way_in, succeeded, rows),) = query(
        database, "select way_in, succeeded, rows_landed from ops.refresh_runs"
    )
    assert succeeded and rows > 0
    assert way_in == url.replace(f":{password}@", "@")
    seen = [way_in, outcome.output, *prefect_records()]
    seen += [record.getMessage() for record in caplog.records]
    assert [text[:200] for text in seen if password in text] == []
