"""Ctrl-C ends a command within seconds, and leaves nothing stuck: the next run works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from werkzeug import Request, Response

from tests.conftest import SAMPLES

MEDMIRROR = Path(sys.executable).parent / "medmirror"


def test_ctrl_c_while_the_publisher_is_slow_ends_the_refresh_and_the_next_one_works(
    database, prefect_server, httpserver, monkeypatch
):
    asked, released = threading.Event(), threading.Event()

    def slow_publisher(request: Request) -> Response:
        asked.set()
        released.wait(120)  # a publisher that takes its time to answer
        return Response("{}", status=503)

    httpserver.expect_request("/").respond_with_handler(slow_publisher)
    monkeypatch.setenv("SOURCES__CLINICALTRIALS__API_URL", httpserver.url_for("/"))
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "300")
    refresh = subprocess.Popen(
        [MEDMIRROR, "refresh", "--source", "clinicaltrials", "--no-dbt"],
        env=dict(os.environ, COLUMNS="200"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: the shell running the tests may ignore SIGINT in children.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert asked.wait(180), "the refresh never asked the publisher"
        refresh.send_signal(signal.SIGINT)
        _, said = refresh.communicate(timeout=60)
    finally:
        released.set()
        if refresh.poll() is None:
            refresh.kill()

    assert refresh.returncode == 130, said
    assert "interrupt" in said and "Traceback" not in said
    again = subprocess.run(
        [MEDMIRROR, "refresh", "--source", "clinicaltrials", "--no-dbt"]
        + ["--bulk", str(SAMPLES / "clinicaltrials")],
        env=dict(os.environ, COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
