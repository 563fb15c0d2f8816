"""The test run's warehouses: one embedded PostgreSQL shared by every pytest-xdist worker,
one database per worker, and template databases built once per run. `SharedByWorkers`
(the first worker starts, the last one stops) also shares the run's Prefect server
(tests/conftest.py `prefect_server`).

Each worker always works in the same database (`test_<worker>`), recreated for every test
from a template with `CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY` (a file copy,
well under a second on the run's server, which does not sync to disk: it is thrown away):

- `tmpl_init`: a fresh warehouse after `medmirror init` (every raw table, nothing landed,
  no model built yet);
- `tmpl_empty`: that, after a first plain `dbt build` (every mart exists, empty): where
  most tests start, so that a refresh builds only what its sources feed;
- `tmpl_<sources>`: `tmpl_init` with the bundled real samples of those sources landed and
  a plain `dbt build` run: what many tests read, built by whichever worker needs it first.

Keeping one database name per worker keeps dbt's connection the same from test to test,
so dbt parses the project once per worker (its partial parse and the in-process manifest,
see flows/dbt_runner.py) instead of once per build.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from psycopg2 import sql

from medmirror.settings import ConnectionInfo, Settings
from medmirror.warehouse import EmbeddedWarehouse

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
WORKER_DATABASE = f"test_{WORKER}"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock between the workers of this run (a file lock)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SharedByWorkers:
    """Something every xdist worker of this run uses, started by the first worker that
    attaches and stopped by the last that detaches (a count in a state file, under a file
    lock): `start()` returns the state to keep (JSON), `stop(state)` ends it."""

    def __init__(self, shared: Path, name: str) -> None:
        self.state = shared / f"{name}.json"
        self.lock = shared / f"{name}.lock"

    def attach(self, start: Callable[[], dict]) -> dict:
        with locked(self.lock):
            state = json.loads(self.state.read_text()) if self.state.exists() else None
            if state is None:
                state = {**start(), "users": 0}
            state["users"] += 1
            self.state.write_text(json.dumps(state))
        return state

    def detach(self, stop: Callable[[dict], None]) -> None:
        with locked(self.lock):
            state = json.loads(self.state.read_text())
            state["users"] -= 1
            if state["users"] == 0:
                stop(state)
                self.state.unlink()
            else:
                self.state.write_text(json.dumps(state))


class SharedServer:
    """The run's embedded PostgreSQL: the first worker starts it, the last one stops it."""

    def __init__(self, shared: Path, port: Callable[[], int]) -> None:
        self.shared = SharedByWorkers(shared, "warehouse")
        self._port = port
        self.server: EmbeddedWarehouse | None = None

    def attach(self) -> EmbeddedWarehouse:
        state = self.shared.attach(self._start)
        self.server = EmbeddedWarehouse(
            Settings(data_dir=Path(state["data_dir"]), db_port=state["port"], database_url=None)
        )
        return self.server

    def _start(self) -> dict:
        # Not under pytest's own temp folder (0700, root's): the server's system user must
        # reach its data folder when the tests run as root.
        folder = Path(tempfile.mkdtemp(prefix="medmirror-test-warehouse-"))
        folder.chmod(0o711)  # passable, not readable: medmirror makes `data` in it
        settings = Settings(data_dir=folder / "data", db_port=self._port(), database_url=None)
        started = EmbeddedWarehouse(settings)
        started.start()
        throwaway(started.connection())
        return {"data_dir": str(settings.data_dir), "port": settings.db_port}

    def detach(self) -> None:
        self.shared.detach(self._stop)

    def _stop(self, state: dict) -> None:
        if self.server is not None:
            self.server.stop()
        shutil.rmtree(Path(state["data_dir"]).parent, ignore_errors=True)


# The test server is thrown away with its folder: no crash of it needs recovering, so it
# neither syncs to disk nor logs whole pages after each checkpoint (every DROP DATABASE,
# i.e. every test's fresh database, forces one), and its logins hash a password once: still
# SCRAM, without its 4,096 PBKDF2 rounds (about 2 ms of the client and 2 of the server per
# connection, and dbt connects once per node). Test-only: medmirror's own server keeps
# PostgreSQL's defaults.
THROWAWAY_SERVER = {
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "scram_iterations": "1",
}


def throwaway(owner: ConnectionInfo) -> None:
    """Set THROWAWAY_SERVER on the run's server (reloaded at once, no restart)."""
    conn = replace(owner, database="postgres").connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for name, value in THROWAWAY_SERVER.items():
                cur.execute(f"alter system set {name} = {value}")
            cur.execute("select pg_reload_conf()")
            # The owner's password stored again, hashed as the server now hashes.
            cur.execute("set scram_iterations = 1")
            cur.execute(
                sql.SQL("alter role {} password %s").format(sql.Identifier(owner.user)),
                (owner.password,),
            )
    finally:
        conn.close()


class Templates:
    """Template databases of this run, and the worker's database copied from them."""

    def __init__(self, server: EmbeddedWarehouse, shared: Path) -> None:
        self.admin = server.connection()
        self.shared = shared

    def fresh(self, template: str) -> ConnectionInfo:
        """The worker's database, recreated as a copy of `template`."""
        self.sql(f'drop database if exists "{WORKER_DATABASE}" with (force)')
        # A file copy: on the throwaway server (no fsync) its checkpoint costs little, and
        # it writes no WAL for the copied pages (the default WAL_LOG strategy does).
        self.sql(f'create database "{WORKER_DATABASE}" template "{template}" strategy = file_copy')
        return replace(self.admin, database=WORKER_DATABASE)

    def ensure(
        self, template: str, build: Callable[[ConnectionInfo], None], base: str | None
    ) -> str:
        """`template`, built once per run: `build` fills the worker's database (a copy of
        `base`, or a new empty database), which is then kept as it."""
        with locked(self.shared / f"{template}.lock"):
            if not self.exists(template):
                if base is None:
                    self.sql(f'drop database if exists "{WORKER_DATABASE}" with (force)')
                    self.sql(f'create database "{WORKER_DATABASE}"')
                    connection = replace(self.admin, database=WORKER_DATABASE)
                else:
                    connection = self.fresh(base)
                build(connection)
                self.sql(
                    "select pg_terminate_backend(pid) from pg_stat_activity "
                    "where datname = %s and pid <> pg_backend_pid()",
                    WORKER_DATABASE,
                )
                self.sql(
                    f'create database "{template}" template "{WORKER_DATABASE}" '
                    "strategy = file_copy"
                )
        return template

    def exists(self, name: str) -> bool:
        conn = self.admin.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("select 1 from pg_database where datname = %s", (name,))
                return cur.fetchone() is not None
        finally:
            conn.close()

    def sql_in(self, database: str, statement: str) -> None:
        """One statement in another database of the server, as its owner."""
        conn = replace(self.admin, database=database).connect()
        try:
            with conn, conn.cursor() as cur:
                cur.execute(statement)
        finally:
            conn.close()

    def sql(self, statement: str, *params: str) -> None:
        conn = self.admin.connect()
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params or None)
        finally:
            conn.close()


def environment_for(connection: ConnectionInfo, data_dir: Path) -> dict[str, str]:
    """What every medmirror component reads to use `connection` and `data_dir`."""
    return {"MEDMIRROR_DATABASE_URL": connection.url(), "MEDMIRROR_DATA_DIR": str(data_dir)}


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """`values` in os.environ for the duration (a template is built inside a test)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
