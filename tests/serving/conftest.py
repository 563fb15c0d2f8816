"""The demo warehouse, built once for every serving test: the bundled real samples of
every source landed and built (the run's `tmpl_<every source>` template, the warehouse
`medmirror demo` builds), copied into a database of its own with the least-privilege
roles set up, so the API and the MCP tools really connect as `medmirror_analyst`."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from flows.sources import SOURCES
from medmirror.roles import ensure_roles, role_connection
from medmirror.settings import ConnectionInfo
from tests.conftest import WITH_SAMPLES, samples_template
from tests.warehouses import WORKER, locked

ENVIRONMENT = (
    "MEDMIRROR_DATABASE_URL",
    "MEDMIRROR_TRANSFORMER_URL",
    "MEDMIRROR_ANALYST_URL",
)


@pytest.fixture(scope="package")
def demo_warehouse(templates, shared_dir) -> ConnectionInfo:
    """The analyst's connection to the demo warehouse (shared by the package)."""
    template = samples_template(templates, WITH_SAMPLES)
    name = f"demo_{WORKER}"
    templates.sql(f'drop database if exists "{name}" with (force)')
    templates.sql(f'create database "{name}" template "{template}" strategy = file_copy')
    owner = replace(templates.admin, database=name)
    # One mart dbt knows but this warehouse has not built: what the API and export say of
    # a mart whose build never ran (`medmirror demo` builds every mart).
    templates.sql_in(name, "drop table marts.county_health")
    passwords = shared_dir / "roles"
    with locked(shared_dir / "roles.lock"):  # the roles are the server's, shared by workers
        ensure_roles(owner, passwords, [spec.raw_schema for spec in SOURCES.values()])
    saved = {variable: os.environ.get(variable) for variable in ENVIRONMENT}
    os.environ["MEDMIRROR_DATABASE_URL"] = owner.url()
    os.environ["MEDMIRROR_TRANSFORMER_URL"] = role_connection(owner, passwords, "transformer").url()
    os.environ["MEDMIRROR_ANALYST_URL"] = role_connection(owner, passwords, "analyst").url()
    try:
        yield role_connection(owner, passwords, "analyst")
    finally:
        for variable, value in saved.items():
            if value is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = value
        templates.sql(f'drop database if exists "{name}" with (force)')


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
