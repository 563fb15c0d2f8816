"""Least privilege on the embedded warehouse: a real refresh runs as the loader and the
transformer, and each role is allowed exactly what it needs, proved by connecting as it."""

from __future__ import annotations

import psycopg2
import pytest

from flows.access import connection_for
from flows.refresh import refresh
from medmirror.settings import SAMPLES_DIR
from tests.conftest import free_port

DENIED = psycopg2.errors.InsufficientPrivilege


@pytest.fixture
def embedded(monkeypatch, reachable_tmp):
    """medmirror on its own embedded PostgreSQL (no MEDMIRROR_DATABASE_URL)."""
    monkeypatch.delenv("MEDMIRROR_DATABASE_URL", raising=False)
    monkeypatch.setenv("MEDMIRROR_DATA_DIR", str(reachable_tmp / "data"))
    monkeypatch.setenv("MEDMIRROR_DB_PORT", str(free_port()))
    yield
    from medmirror.settings import load_settings
    from medmirror.warehouse import EmbeddedWarehouse

    EmbeddedWarehouse(load_settings()).stop()


def run(kind: str, statement: str):
    conn = connection_for(kind).connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def test_each_role_may_do_what_it_needs_and_nothing_more(embedded, prefect_harness):
    refresh(sources=["clinicaltrials"], bulk=str(SAMPLES_DIR / "clinicaltrials"))
    assert run("analyst", "select count(*) from marts.clinical_trials") == [(19,)]
    assert connection_for("analyst").user == "medmirror_analyst"

    # loader: writes raw, reads staging (views of that raw: what RxNav looks up), no more
    run(
        "loader",
        "create table raw_clinicaltrials.scratch as select * from raw_clinicaltrials.studies; "
        "drop table raw_clinicaltrials.scratch",
    )
    assert run("loader", "select count(*) from staging.stg_clinicaltrials__studies") == [(19,)]
    for forbidden in (
        "select count(*) from marts.clinical_trials",
        "select count(*) from intermediate.int_studies_deduplicated",
        "create view staging.sneaky as select 1",
        "drop view staging.stg_clinicaltrials__studies",
        "create table marts.sneaky (x int)",
        "create schema sneaky",
    ):
        with pytest.raises(DENIED):
            run("loader", forbidden)

    # transformer: reads raw, builds marts, cannot write raw
    assert run("transformer", "select count(*) from raw_clinicaltrials.studies") == [(19,)]
    run("transformer", "create table marts.scratch (x int); drop table marts.scratch")
    with pytest.raises(DENIED):
        run("transformer", "delete from raw_clinicaltrials.studies")

    # analyst: reads marts and searches, nothing else
    hits = run("analyst", "select nct_id from marts.search_clinical_trials('growth hormone')")
    assert ("NCT05187377",) in hits
    for forbidden in (
        "select count(*) from raw_clinicaltrials.studies",
        "select count(*) from staging.stg_clinicaltrials__studies",
        "select count(*) from intermediate.int_studies_deduplicated",
        "select count(*) from ops.refresh_runs",
        "delete from marts.clinical_trials",
        "insert into marts.trial_conditions (trial_condition_id) values ('x')",
        "create table marts.sneaky (x int)",
        "create temporary table sneaky (x int)",
        "create role sneaky",
        "set role medmirror_transformer",
        "alter role medmirror_analyst createrole",
    ):
        with pytest.raises(DENIED):
            run("analyst", forbidden)


def test_the_server_listens_only_on_loopback_and_the_socket(embedded):
    assert run("owner", "show listen_addresses") == [("127.0.0.1",)]
    assert run(
        "owner",
        "select count(*) from pg_hba_file_rules where type = 'host' "
        "and auth_method not in ('scram-sha-256')",
    ) == [(0,)]
