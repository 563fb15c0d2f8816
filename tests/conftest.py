"""Shared test fixtures: a real embedded PostgreSQL (one per run, shared by the xdist
workers), a fresh database per test copied from a template (`medmirror init` done, or the
samples of some sources landed and built: see tests/warehouses.py), and a replay of the
real ClinicalTrials.gov API on 127.0.0.1."""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

# Before medmirror, dlt or Prefect are imported: nothing a test does may touch the
# project's own data folder, the user's pgpass file or Prefect home.
_SCRATCH = Path(tempfile.mkdtemp(prefix="medmirror-tests-"))
_SCRATCH.chmod(0o711)  # see reachable_folder
# Removed when the process ends (each worker has its own): the dbt logs and downloads of
# a run add up to tens of megabytes a worker.
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)
os.environ["MEDMIRROR_DATA_DIR"] = str(_SCRATCH / "data")
os.environ["PGPASSFILE"] = str(_SCRATCH / "pgpass")
os.environ["PREFECT_HOME"] = str(_SCRATCH / "prefect")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("MEDMIRROR_DATABASE_URL", None)
os.environ.pop("PREFECT_API_URL", None)
# dbt's parsed project, per worker process: kept from build to build (the database keeps
# its name, so dbt parses the project once).
os.environ["MEDMIRROR_DBT_TARGET_DIR"] = str(_SCRATCH / "dbt-target")
# Bulk files are parsed in the loading process (tests/extract/test_parallel.py starts
# the one Dask cluster of the suite): a cluster per test would cost more than it saves.
os.environ["BULK__PARSE_WORKERS"] = "1"
# No dbt file log (dbt's own setting; a user's default keeps everything): each test
# process's scratch folder is removed when it ends, and writing every node's debug lines
# was about a tenth of dbt's time. tests/flows/test_dbt_progress.py turns it on.
os.environ["DBT_LOG_LEVEL_FILE"] = "none"

import psutil  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402
from werkzeug import Request, Response  # noqa: E402

from extract.landing import LandingResult, land, pipeline_for  # noqa: E402
from flows.dbt_runner import run_dbt, selector_for  # noqa: E402
from flows.sources import SOURCES, spec_of  # noqa: E402
from medmirror.settings import PROJECT_DIR, ConnectionInfo, load_settings  # noqa: E402
from medmirror.warehouse import EmbeddedWarehouse  # noqa: E402
from tests.warehouses import (  # noqa: E402
    SharedByWorkers,
    SharedServer,
    Templates,
    environment,
    environment_for,
)

SAMPLES = PROJECT_DIR / "samples"
# Every source that bundles real samples: `samples_template(templates, WITH_SAMPLES)` is
# the warehouse `medmirror demo` builds.
WITH_SAMPLES = tuple(name for name, spec in SOURCES.items() if spec.samples)
DERIVED = PROJECT_DIR / "tests" / "fixtures"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `long` (half a minute or more) run first: collected in file order,
    the demo and the SQL lint came last, and the other worker sat idle while one ran."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


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


@pytest.fixture(autouse=True)
def _root_logging_restored():
    """Each test starts from the root logger the test before it found: an in-process
    `medmirror` command replaces the root handlers (as it does in its own process), and
    those would otherwise print later tests' records, such as a replay server's access
    log of a request with its key, to the terminal."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):  # pytest's own capture handlers it removes itself
        if handler not in handlers and not type(handler).__module__.startswith("_pytest"):
            root.removeHandler(handler)
    root.setLevel(level)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _shared_dir(factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this run shares (the run's base temp folder)."""
    base = factory.getbasetemp()
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedWarehouse:
    """The run's embedded PostgreSQL (started by the first worker, stopped by the last)."""
    shared = SharedServer(_shared_dir(tmp_path_factory), free_port)
    yield shared.attach()
    shared.detach()


@pytest.fixture(scope="session")
def prefect_server(shared_dir: Path) -> str:
    """One real Prefect server for the whole run (`prefect server start`, on SQLite),
    shared by the xdist workers like the warehouse: flows called in-process report to it,
    and so do the `medmirror` commands the tests start (PREFECT_API_URL is set for them),
    which then start no server of their own."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    shared = SharedByWorkers(shared_dir, "prefect-server")
    url = shared.attach(lambda: _start_prefect_server(shared_dir / "prefect-server"))["url"]
    try:
        os.environ["PREFECT_API_URL"] = url
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        shared.detach(_stop_prefect_server)


def _start_prefect_server(home: Path) -> dict:
    """`prefect server start` with its database in `home` (the run's shared folder: the
    worker that starts it may end before the others), answering; its URL and process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = dict(os.environ, PREFECT_HOME=str(home), PREFECT_API_URL=url, **_QUIET_SERVER)
    server = subprocess.Popen(
        [Path(sys.executable).parent / "prefect", "server", "start", "--host", "127.0.0.1"]
        + ["--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # not stopped with the worker that started it
    )
    deadline = time.monotonic() + 180
    while not _answers(f"{url}/health"):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("prefect server start exited or never answered")
        time.sleep(0.5)
    return {"url": url, "pid": server.pid}


def _stop_prefect_server(state: dict) -> None:
    """Ctrl-C to the server (which may be another worker's child), then a kill."""
    try:
        server = psutil.Process(state["pid"])
        server.send_signal(signal.SIGINT)
        server.wait(30)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        server.kill()


# The test server's idle loops off (schedules, late and crashed runs, workers' health,
# automations, cleanups: no test waits for one) and no dashboard, kept: the event
# persister and the task run recorder, which record what the flows report. The loops poll
# the database every few seconds through a whole run: an idle server spent 3.0 CPU-seconds
# per 2 minutes with them, 1.85 without.
_QUIET_SERVER = {
    "PREFECT_UI_ENABLED": "false",
    **{
        f"PREFECT_SERVER_SERVICES_{service}_ENABLED": "false"
        for service in (
            "CANCELLATION_CLEANUP",
            "CLEANUP_RECONCILER",
            "FOREMAN",
            "LATE_RUNS",
            "PAUSE_EXPIRATIONS",
            "REPOSSESSOR",
            "SCHEDULER",
            "TRIGGERS",
        )
    },
}


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.ConnectionError:
        return False


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every worker of this run shares."""
    return _shared_dir(tmp_path_factory)


@pytest.fixture(scope="session")
def templates(warehouse: EmbeddedWarehouse, shared_dir: Path) -> Templates:
    found = Templates(warehouse, shared_dir)
    scratch = Path(tempfile.mkdtemp(prefix="template-", dir=_SCRATCH))

    def init(connection: ConnectionInfo) -> None:
        from flows.init import init_warehouse

        with environment(environment_for(connection, scratch)):
            init_warehouse()

    def build(connection: ConnectionInfo) -> None:
        with environment(environment_for(connection, scratch)):
            run_dbt(["build"], connection)

    found.ensure("tmpl_init", init, base=None)
    found.ensure("tmpl_empty", build, base="tmpl_init")
    return found


@pytest.fixture
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line run in this process prints as on a 300-column terminal. Its
    consoles are made when `flows.cli` is imported and keep the COLUMNS of that moment
    (pytest-xdist's workers have COLUMNS=80), so a CliRunner's `env` cannot widen them."""
    from rich.console import Console

    import flows.cli

    monkeypatch.setattr(flows.cli, "console", Console(width=300))
    monkeypatch.setattr(flows.cli, "err", Console(stderr=True, width=300))


@pytest.fixture
def database(
    templates: Templates, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> ConnectionInfo:
    """The worker's database, fresh for this test: every raw table and every mart exists,
    empty (`medmirror init`, then a plain `dbt build`); every medmirror component in the
    test uses it."""
    return _use(templates.fresh("tmpl_empty"), monkeypatch, tmp_path)


@pytest.fixture
def new_database(
    templates: Templates, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> ConnectionInfo:
    """The worker's database as a new warehouse is after `medmirror init`: every raw
    table, no model built yet."""
    return _use(templates.fresh("tmpl_init"), monkeypatch, tmp_path)


def _use(info: ConnectionInfo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ConnectionInfo:
    for name, value in environment_for(info, tmp_path / "data").items():
        monkeypatch.setenv(name, value)
    # DailyMed's weekly read of its whole SPL list: off, tests that replay it turn it on.
    monkeypatch.setenv("SOURCES__DAILYMED__FULL_LIST_DAYS", "0")
    return info


@pytest.fixture
def samples_database(
    database: ConnectionInfo, templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., ConnectionInfo]:
    """`samples_database("icd10cm", "hcpcs")`: the worker's database holding the bundled
    real samples of those sources landed, and every model and test built as a plain
    `dbt build` leaves them (each set is built once per run and copied for every test
    that asks for it: see `samples_template`)."""

    def make(*sources: str) -> ConnectionInfo:
        return templates.fresh(samples_template(templates, sources))

    return make


def samples_template(templates: Templates, sources: Iterable[str]) -> str:
    """The template holding the bundled real samples of `sources` landed, in the state a
    plain `dbt build` on a new warehouse leaves (built once per run).

    It is built from `tmpl_empty` (every model built and tested on empty raw tables) by
    building what the sources feed, with every test that reads any of it (`eager`: a
    test also reading a model of another source reads that model built, empty). The
    models no source of the set feeds read only empty raw tables, as in `tmpl_empty`, so
    this is the plain build's result and checks, without building and testing the rest
    of the project again (a sixth of the nodes for most single sources)."""
    sources = tuple(sources)

    def fill(connection: ConnectionInfo) -> None:
        land_samples(connection, sources)
        selected = ["--select", *selector_for(sources), "--indirect-selection", "eager"]
        run_dbt(["build", *selected], connection)

    return template_from_empty(templates, "tmpl_" + "_".join(sources), fill)


def template_from_empty(
    templates: Templates,
    template: str,
    fill: Callable[[ConnectionInfo], None],
    base: str = "tmpl_empty",
) -> str:
    """`template`, built once per run from `base` (`tmpl_empty`, or another template) by
    `fill` (landing and building as medmirror does, with its settings pointing at the
    database being filled)."""

    def build(connection: ConnectionInfo) -> None:
        scratch = Path(tempfile.mkdtemp(prefix=f"{template}-", dir=_SCRATCH))
        with environment(environment_for(connection, scratch)):
            fill(connection)

    return templates.ensure(template, build, base=base)


def land_samples(connection: ConnectionInfo, sources: Iterable[str]) -> None:
    """The bundled real samples of `sources`, landed as the demo lands them."""
    for name in sources:
        land_source(connection, name, bulk_location=str(spec_of(name).samples))


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


def land_source(
    connection: ConnectionInfo, name: str, *, full: bool = False, **source_args
) -> LandingResult:
    """Land source `name` into `connection` as a refresh does (its pipeline, its declared
    tables, downloads into the data folder); `source_args` go to its dlt source."""
    settings = load_settings()
    spec = spec_of(name)
    source_args.setdefault("download_dir", str(settings.data_dir / "downloads"))
    pipeline = pipeline_for(name, connection, settings.dlt_dir)
    return land(
        pipeline,
        lambda: spec.make_source(**source_args),
        tables=spec.tables,
        full=full,
        bulk="bulk_location" in source_args,
    )


def build_models(
    connection: ConnectionInfo,
    *models: str,
    sources: Iterable[str],
    full: bool = False,
) -> None:
    """`dbt build` of the models that lie between `sources` and `models` (each a model
    name or a dbt selector such as `path:models/marts/trials`): what those sources feed
    on the way to the models, the models, and every test whose models are all built or
    upstream. A test of one mart builds that mart as a refresh of its sources would,
    without the sources' other marts (their own tests build and read them).

    The models these read from other sources are the database's own: built, as the
    `database` and `samples_database` fixtures leave every model."""
    selected = [f"source:{source}+,+{model}" for source in sources for model in models]
    full_refresh = ["--full-refresh"] if full else []
    run_dbt(
        ["build", "--select", *selected, "--indirect-selection", "buildable", *full_refresh],
        connection,
    )


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
    monkeypatch.setenv("SOURCES__CLINICALTRIALS__RESYNC_BATCH", "0")  # off: tests turn it on
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "5")
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "10")
    return api


# Profiling the suite: `MEDMIRROR_TEST_DBT_TRACE=<file> bin/test` appends one JSON line per
# in-process dbt invocation (the test, its worker, the arguments, wall and CPU seconds), which
# says which tests' builds the suite's time goes to (BENCHMARKS.md, "The test suite").
if os.environ.get("MEDMIRROR_TEST_DBT_TRACE"):
    import flows.dbt_runner as _runner

    _original_invoke = _runner._invoke

    def _traced_invoke(runner, command, args, connection):
        started, cpu = time.time(), time.process_time()
        try:
            return _original_invoke(runner, command, args, connection)
        finally:
            record = {
                "test": os.environ.get("PYTEST_CURRENT_TEST", ""),
                "worker": os.environ.get("PYTEST_XDIST_WORKER", ""),
                "args": " ".join(list(args)[:6]),
                "nargs": len(args),
                "wall": round(time.time() - started, 2),
                "cpu": round(time.process_time() - cpu, 2),
            }
            with open(os.environ["MEDMIRROR_TEST_DBT_TRACE"], "a") as out:
                out.write(json.dumps(record) + "\n")

    _runner._invoke = _traced_invoke
