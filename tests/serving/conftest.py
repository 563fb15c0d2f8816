"""The demo warehouse, built once for every serving test: an embedded PostgreSQL of its
own where `flows.demo.demo` lands the bundled real samples of every source and builds the
marts, exactly as `medmirror demo` does (least-privilege roles included, so the API and
the MCP tools really connect as `medmirror_analyst`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from medmirror.settings import ConnectionInfo
from tests.conftest import free_port

ENVIRONMENT = ("MEDMIRROR_DATABASE_URL", "MEDMIRROR_DATA_DIR", "MEDMIRROR_DB_PORT")


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect API (SQLite) for flows called in-process."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="package")
def demo_warehouse(prefect_harness) -> ConnectionInfo:
    """The analyst's connection to a warehouse the demo built (shared by the package)."""
    saved = {name: os.environ.get(name) for name in ENVIRONMENT}
    os.environ.pop("MEDMIRROR_DATABASE_URL", None)
    # Not under pytest's temporary root: another pytest session resets that folder's
    # permissions, and the embedded server (its own system user when run as root) needs
    # to reach its data folder.
    scratch = Path(tempfile.mkdtemp(prefix="medmirror-serving-"))
    os.environ["MEDMIRROR_DATA_DIR"] = str(scratch / "data")
    os.environ["MEDMIRROR_DB_PORT"] = str(free_port())
    from flows.access import connection_for
    from flows.demo import demo
    from medmirror.settings import load_settings
    from medmirror.warehouse import EmbeddedWarehouse

    try:
        demo()
        yield connection_for("analyst")
    finally:
        EmbeddedWarehouse(load_settings()).stop()
        shutil.rmtree(scratch, ignore_errors=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def analyst_rows(connection: ConnectionInfo, statement: str, *params) -> list[dict]:
    """Rows of one query as the analyst, with search_path marts, as JSON-ready dicts."""
    from serving.queries import plain

    conn = connection.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("set search_path to marts")
            cur.execute(statement, params or None)
            names = [column.name for column in cur.description]
            return [
                {name: plain(value) for name, value in zip(names, row, strict=True)}
                for row in cur.fetchall()
            ]
    finally:
        conn.close()
