"""`prefect deployment run 'refresh/daily'` through a real Prefect server and `medmirror serve`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from flows.deployments import deployments
from flows.sources import SOURCES
from tests.conftest import StudiesApi, free_port, json_response, query
from tests.extract.test_clinicaltrials import PAGE1, PAGE2_LAST
from tests.extract.test_orangebook import EXCERPT, ReleaseServer, release_server  # noqa: F401
from tests.extract.test_pubmed import EutilsApi, eutils, queue_five_articles  # noqa: F401

BIN = Path(sys.executable).parent


def test_deployments_cover_daily_weekly_full_and_each_source():
    by_name = {deployment.name: deployment for deployment in deployments()}

    assert set(by_name) == {"daily", "monthly", "weekly-full", *SOURCES}
    assert by_name["daily"].parameters == {
        "sources": [name for name in SOURCES if name != "orangebook"],
        "full": False,
    }
    assert by_name["monthly"].parameters == {"sources": ["orangebook"], "full": False}
    assert by_name["monthly"].schedules[0].schedule.cron == "0 6 1,15 * *"
    assert by_name["weekly-full"].parameters == {"full": True}
    assert by_name["clinicaltrials"].parameters == {"sources": ["clinicaltrials"]}
    assert by_name["daily"].schedules[0].schedule.cron == "0 5 * * *"


def test_daily_and_monthly_deployments_run_to_completed(
    database,
    studies_api: StudiesApi,
    eutils: EutilsApi,  # noqa: F811
    release_server: ReleaseServer,  # noqa: F811
    tmp_path: Path,
):
    """Every source refreshed from its publisher, replayed on 127.0.0.1, by the daily or the
    monthly deployment."""
    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]
    queue_five_articles(eutils)
    release_server.serve(EXCERPT)
    port = free_port()
    env = dict(
        os.environ,
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_RUNNER_POLL_FREQUENCY="2",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    server = subprocess.Popen(
        [BIN / "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    serve = None
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/api/health", server)
        serve_log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - closed with the process
        serve = subprocess.Popen(
            [BIN / "medmirror", "serve"], env=env, stdout=serve_log, stderr=subprocess.STDOUT
        )
        runs = {}
        for name in ("daily", "monthly"):
            _wait_for_deployment(f"http://127.0.0.1:{port}/api", "refresh", name, serve)
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
        for process in (serve, server):  # the serve process must stop before the server
            if process is not None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()

    for run in runs.values():
        assert run.returncode == 0, run.stdout + (tmp_path / "serve.log").read_text()
        assert "Completed" in run.stdout
    assert query(database, "select count(*) from marts.clinical_trials") == [(10,)]
    assert query(database, "select count(*) from marts.pubmed_articles") == [(5,)]
    assert query(database, "select count(*) from marts.orange_book_products") == [(300,)]
    assert query(database, "select source, succeeded from ops.refresh_runs order by 1") == [
        ("clinicaltrials", True),
        ("orangebook", True),
        ("pubmed", True),
    ]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "prefect server exited"
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} never answered")


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
