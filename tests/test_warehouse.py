"""The embedded PostgreSQL: detached, TCP + socket, password on TCP, survives restarts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from medmirror.settings import Settings
from medmirror.warehouse import EmbeddedWarehouse, WarehouseAlreadyRunning
from tests.conftest import free_port

MEDMIRROR = Path(sys.executable).parent / "medmirror"


@pytest.fixture
def own_warehouse(reachable_tmp: Path) -> EmbeddedWarehouse:
    server = EmbeddedWarehouse(
        Settings(data_dir=reachable_tmp / "data", db_port=free_port(), database_url=None)
    )
    yield server
    server.stop()


def test_start_refuse_twice_stop_and_restart_with_data_intact(own_warehouse):
    running = own_warehouse.start()
    assert running.port == own_warehouse.port
    with pytest.raises(WarehouseAlreadyRunning, match="already runs"):
        own_warehouse.start()

    conn = own_warehouse.connection().connect()
    with conn, conn.cursor() as cur:
        cur.execute("create table kept (value text); insert into kept values ('still here')")
    conn.close()
    assert own_warehouse.stop() is True
    assert own_warehouse.status() is None
    assert own_warehouse.stop() is False

    own_warehouse.start()
    conn = own_warehouse.connection().connect()
    with conn.cursor() as cur:
        cur.execute("select value from kept")
        assert cur.fetchall() == [("still here",)]
    conn.close()


def test_tcp_needs_the_password_and_the_socket_serves_the_owner(own_warehouse):
    running = own_warehouse.start()
    info = own_warehouse.connection()
    assert running.socket_dir.joinpath(f".s.PGSQL.{running.port}").is_socket()
    password_file = own_warehouse.password_file
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"

    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(**{**info.psycopg_kwargs(), "password": "wrong"})
    by_socket = psycopg2.connect(
        host=str(running.socket_dir), port=running.port, user=info.user, dbname=info.database
    )
    by_socket.close()
    # The pgpass line written at start lets tools log in over TCP without the password.
    by_pgpass = psycopg2.connect(**{**info.psycopg_kwargs(), "password": ""})
    by_pgpass.close()


def test_server_outlives_the_command_that_started_it(reachable_tmp: Path):
    env = dict(
        os.environ,
        MEDMIRROR_DATA_DIR=str(reachable_tmp / "data"),
        MEDMIRROR_DB_PORT=str(free_port()),
    )
    env.pop("MEDMIRROR_DATABASE_URL", None)
    started = subprocess.run(
        [MEDMIRROR, "db", "start"], env=env, capture_output=True, text=True, timeout=120
    )
    try:
        assert started.returncode == 0, started.stderr
        assert f"127.0.0.1:{env['MEDMIRROR_DB_PORT']}" in started.stdout
        again = subprocess.run([MEDMIRROR, "db", "start"], env=env, capture_output=True, text=True)
        assert again.returncode == 1
        assert "already runs" in again.stderr
        status = subprocess.run(
            [MEDMIRROR, "db", "status"], env=env, capture_output=True, text=True
        )
        assert status.returncode == 0 and "running" in status.stdout
        # The URL a BI tool needs is the analyst's; the owner's only when asked for.
        url = subprocess.run([MEDMIRROR, "db", "url"], env=env, capture_output=True, text=True)
        assert url.stdout.startswith("postgresql://medmirror_analyst:")
        owner = subprocess.run(
            [MEDMIRROR, "db", "url", "--role", "owner"], env=env, capture_output=True, text=True
        )
        assert owner.stdout.startswith("postgresql://medmirror:")
        for printed in (url, owner):
            conn = psycopg2.connect(printed.stdout.strip())
            conn.close()
    finally:
        subprocess.run([MEDMIRROR, "db", "stop"], env=env, capture_output=True, text=True)
    status = subprocess.run([MEDMIRROR, "db", "status"], env=env, capture_output=True, text=True)
    assert status.returncode == 3 and "not running" in status.stdout
