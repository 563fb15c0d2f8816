"""Least privilege on the embedded warehouse: a real refresh runs as the loader and the
transformer, and each role is allowed exactly what it needs, proved by connecting as it."""

from __future__ import annotations

import threading

import psycopg2
import pytest

from flows.access import connection_for, prepare_roles
from flows.ops import REFRESH_LOCK_KEY, RefreshAlreadyRunning, refresh_lock
from flows.refresh import refresh
from flows.search import search
from medmirror.roles import ROLE_SETUP_LOCK_KEY, LockWaitTimeout
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


@pytest.mark.long
def test_each_role_may_do_what_it_needs_and_nothing_more(embedded, prefect_server):
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

    # The search functions run as the caller, and search text is only ever a parameter.
    ((functions, definers),) = run(
        "owner",
        "select count(*), count(*) filter (where p.prosecdef) from pg_proc as p "
        "join pg_namespace as n on n.oid = p.pronamespace "
        "where n.nspname = 'marts' and p.proname like 'search\\_%'",
    )
    assert functions >= 1 and definers == 0
    hostile = "growth'); drop table marts.clinical_trials; --"
    shown = ("nct_id",)
    assert search(connection_for("analyst"), "clinical_trials", hostile, shown) == []
    with pytest.raises(psycopg2.errors.UndefinedFunction):
        search(connection_for("analyst"), "clinical_trials(''); --", "growth", shown)
    assert run("analyst", "select count(*) from marts.clinical_trials") == [(19,)]


def test_the_server_listens_only_on_loopback_and_the_socket(embedded):
    assert run("owner", "show listen_addresses") == [("127.0.0.1",)]
    assert run(
        "owner",
        "select count(*) from pg_hba_file_rules where type = 'host' "
        "and auth_method not in ('scram-sha-256')",
    ) == [(0,)]


def test_the_analyst_cannot_take_a_lock_medmirror_waits_for(embedded):
    for statement in (
        f"select pg_advisory_lock({REFRESH_LOCK_KEY})",
        f"select pg_try_advisory_lock({REFRESH_LOCK_KEY})",
        f"select pg_advisory_xact_lock({ROLE_SETUP_LOCK_KEY})",
        "select pg_try_advisory_lock_shared(1, 2)",
    ):
        with pytest.raises(DENIED):
            run("analyst", statement)
    # The roles that need the refresh lock still take it.
    assert run("transformer", f"select pg_try_advisory_lock({REFRESH_LOCK_KEY})") == [(True,)]


def test_a_refresh_lock_held_by_a_session_the_transformer_cannot_see_is_named(embedded):
    holder = connection_for("owner").connect()
    holder.autocommit = True
    try:
        with holder.cursor() as cur:
            cur.execute("select pg_advisory_lock(%s), pg_backend_pid()", (REFRESH_LOCK_KEY,))
            pid = cur.fetchone()[1]
        with pytest.raises(RefreshAlreadyRunning, match=f"another refresh .*session {pid}"):
            with refresh_lock(connection_for("transformer")):
                pass
    finally:
        holder.close()


def test_waiting_for_the_role_set_up_lock_ends_with_a_message(embedded, monkeypatch):
    connection_for("owner")  # the warehouse runs
    monkeypatch.setenv("MEDMIRROR_LOCK_TIMEOUT", "2")
    holder = connection_for("owner").connect()
    holder.autocommit = True
    outcome: list[BaseException | None] = []

    def set_up() -> None:
        try:
            prepare_roles()
            outcome.append(None)
        except BaseException as failure:  # noqa: BLE001 - handed to the test
            outcome.append(failure)

    try:
        with holder.cursor() as cur:
            cur.execute("select pg_advisory_lock(%s), pg_backend_pid()", (ROLE_SETUP_LOCK_KEY,))
            pid = cur.fetchone()[1]
        waiting = threading.Thread(target=set_up, daemon=True)
        waiting.start()
        waiting.join(timeout=60)
        assert not waiting.is_alive(), "the role set-up waited past its lock timeout"
    finally:
        holder.close()  # lets a set-up still waiting (the bug) finish
    (failure,) = outcome
    assert isinstance(failure, LockWaitTimeout)
    assert f"waited 2 s for the role set-up lock of medmirror, held by session {pid}" in str(
        failure
    )


def test_the_analyst_has_a_connection_limit_and_a_statement_timeout(embedded, monkeypatch):
    monkeypatch.setenv("MEDMIRROR_ANALYST_CONNECTIONS", "2")
    monkeypatch.setenv("MEDMIRROR_ANALYST_STATEMENT_TIMEOUT", "1s")
    prepare_roles()
    assert run("analyst", "show statement_timeout") == [("1s",)]
    with pytest.raises(psycopg2.errors.QueryCanceled, match="statement timeout"):
        run("analyst", "select pg_sleep(3)")

    analyst = connection_for("analyst")
    held = [analyst.connect() for _ in range(2)]
    try:
        with pytest.raises(psycopg2.OperationalError, match="too many connections for role"):
            analyst.connect()
    finally:
        for conn in held:
            conn.close()


def test_a_policy_the_loader_writes_never_runs_as_the_transformer(embedded):
    # A hostile loader: a function of its own, called by a row-security policy on its own
    # raw table, that would build a mart (the transformer's right) when the transformer
    # reads the table.
    run(
        "loader",
        """
        create function raw_clinicaltrials.evil() returns boolean language plpgsql as $$
        begin
            create table marts.pwned (x int);
            return true;
        end $$;
        create table raw_clinicaltrials.bait (x int);
        insert into raw_clinicaltrials.bait values (1);
        alter table raw_clinicaltrials.bait enable row level security;
        create policy everyone on raw_clinicaltrials.bait using (raw_clinicaltrials.evil());
        """,
    )
    assert run(
        "owner",
        "select has_function_privilege('medmirror_transformer', "
        "'raw_clinicaltrials.evil()', 'execute')",
    ) == [(False,)]

    with pytest.raises(psycopg2.Error, match="row-level security|permission denied"):
        run("transformer", "select count(*) from raw_clinicaltrials.bait")

    assert run("owner", "select to_regclass('marts.pwned')") == [(None,)]
