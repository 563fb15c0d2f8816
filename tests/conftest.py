"""Shared test fixtures: a real embedded PostgreSQL, one fresh database per test, and a
replay of the real ClinicalTrials.gov API on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

# Before medmirror, dlt or Prefect are imported: nothing a test does may touch the
# project's own data folder, the user's pgpass file or Prefect home.
_SCRATCH = Path(tempfile.mkdtemp(prefix="medmirror-tests-"))
_SCRATCH.chmod(0o711)  # see reachable_folder
os.environ["MEDMIRROR_DATA_DIR"] = str(_SCRATCH / "data")
os.environ["PGPASSFILE"] = str(_SCRATCH / "pgpass")
os.environ["PREFECT_HOME"] = str(_SCRATCH / "prefect")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("MEDMIRROR_DATABASE_URL", None)
os.environ.pop("PREFECT_API_URL", None)

import pytest  # noqa: E402
from werkzeug import Request, Response  # noqa: E402

from medmirror.settings import PROJECT_DIR, ConnectionInfo, Settings  # noqa: E402
from medmirror.warehouse import EmbeddedWarehouse  # noqa: E402

SAMPLES = PROJECT_DIR / "samples"
DERIVED = PROJECT_DIR / "tests" / "fixtures"


def reachable_folder(prefix: str = "folder-") -> Path:
    """A new test folder that the embedded PostgreSQL's system user may pass through when
    the tests run as root (medmirror never widens a folder it did not create): a data
    folder inside it is created by medmirror, as on a user's machine."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=_SCRATCH))
    folder.chmod(0o711)
    return folder


@pytest.fixture
def reachable_tmp() -> Path:
    return reachable_folder("test-")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedWarehouse:
    """One embedded PostgreSQL for the whole test session."""
    settings = Settings(
        data_dir=reachable_folder("warehouse-") / "data", db_port=free_port(), database_url=None
    )
    server = EmbeddedWarehouse(settings)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def database(
    warehouse: EmbeddedWarehouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> ConnectionInfo:
    """A fresh, empty database that every medmirror component in this test uses."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = warehouse.connection()
    _admin_sql(admin, f'create database "{name}"')
    info = replace(admin, database=name)
    monkeypatch.setenv("MEDMIRROR_DATABASE_URL", info.url())
    monkeypatch.setenv("MEDMIRROR_DATA_DIR", str(tmp_path / "data"))
    yield info
    _admin_sql(admin, f'drop database "{name}" with (force)')


def _admin_sql(connection: ConnectionInfo, statement: str) -> None:
    conn = connection.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def query(connection: ConnectionInfo, statement: str, *params) -> list[tuple]:
    """Rows of one SQL statement."""
    conn = connection.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall()
    finally:
        conn.close()


def sample(relative: str) -> bytes:
    """A real publisher file (`samples/...`) or a test variant (`tests/fixtures/...`)."""
    for folder in (SAMPLES, DERIVED):
        if (folder / relative).exists():
            return (folder / relative).read_bytes()
    raise FileNotFoundError(relative)


class StudiesApi:
    """Replays ClinicalTrials.gov's `/api/v2/studies` on 127.0.0.1 and records each request.

    Responses are queued in the order the client will ask for them: search pages in
    `pages`, re-sync answers (requests with `filter.ids`) in `resyncs`. A request with
    nothing queued gets a 500 and fails the test's expectations.
    """

    path = "/api/v2/studies"

    def __init__(self, httpserver) -> None:
        self.url = httpserver.url_for(self.path)
        self.pages: list[Response] = []
        self.resyncs: list[Response] = []
        self.requests: list[dict[str, str]] = []
        self.times: list[float] = []  # when each request arrived (time.monotonic)
        httpserver.expect_request(self.path).respond_with_handler(self._answer)

    def _answer(self, request: Request) -> Response:
        args = dict(request.args)
        self.requests.append(args)
        self.times.append(time.monotonic())
        queue = self.resyncs if "filter.ids" in args else self.pages
        if not queue:
            return Response("no response queued for this request", status=500)
        response = queue.pop(0)
        return response if isinstance(response, Response) else response()

    @property
    def search_requests(self) -> list[dict[str, str]]:
        return [args for args in self.requests if "filter.ids" not in args]


def json_response(relative: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        sample(relative), status=status, headers=headers, content_type="application/json"
    )


def error_response(status: int, headers: dict | None = None) -> Response:
    return Response(json.dumps({"error": "replayed failure"}), status=status, headers=headers)


@pytest.fixture
def studies_api(httpserver, monkeypatch: pytest.MonkeyPatch) -> StudiesApi:
    """The API replay, with the source pointed at it and quick retries."""
    api = StudiesApi(httpserver)
    monkeypatch.setenv("SOURCES__CLINICALTRIALS__API_URL", api.url)
    monkeypatch.setenv("SOURCES__CLINICALTRIALS__WINDOW_DAYS", "100000")  # one window
    monkeypatch.setenv("SOURCES__CLINICALTRIALS__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("SOURCES__CLINICALTRIALS__RESYNC_BATCH", "0")  # tests turn it on
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "5")
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "10")
    return api
