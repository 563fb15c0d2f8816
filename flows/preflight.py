"""Checks a command runs before it starts Prefect, each failing with one line a person can
act on: which thing is wrong and what to do about it.

A refresh checks its source names, its bulk location and the database before the Prefect
server (which takes 10-30 s to start) is asked for anything, so a typo costs a second,
not half a minute and a traceback.
"""

from __future__ import annotations

from pathlib import Path

import psycopg2

from medmirror.settings import ConnectionInfo, Settings, load_settings
from medmirror.warehouse import EmbeddedWarehouse, PortTaken, WarehouseError

CONNECT_TIMEOUT_S = 5


class Refused(RuntimeError):
    """A check failed; the message is the one line to show."""


def check_sources(names: list[str] | None) -> None:
    """Every name is a source medmirror knows (the message lists the known ones)."""
    from flows.sources import spec_of

    for name in names or []:
        try:
            spec_of(name)
        except ValueError as unknown:
            raise Refused(f"{unknown}: name one of them with --source") from None


def check_bulk(location: str | None) -> None:
    """A local bulk location exists and is a folder or a readable file (a URL, such as an
    https:// release or DrugCentral's postgresql:// database, is checked when it is read:
    never echoed here, it may hold a password)."""
    if not location or "://" in location:  # https://, postgresql:// (DrugCentral)
        return
    path = Path(location).expanduser()
    if not path.exists():
        raise Refused(
            f"--bulk {location}: no such file or folder; give the path of a release file, "
            "a zip of them or a folder holding them"
        )
    if not path.is_file():
        return
    try:
        with open(path, "rb") as file:
            head = file.read(4)
    except OSError as unreadable:
        raise Refused(f"--bulk {location}: cannot be read ({unreadable.strerror})") from None
    for suffix, magic, kind in ARCHIVES:
        if path.name.lower().endswith(suffix) and not head.startswith(magic):
            what = "empty" if not head else f"it starts with {head!r}"
            raise Refused(
                f"--bulk {location}: not a {kind} archive ({what}): a download cut short or "
                "an error page saved in its place? fetch it again from the publisher"
            )


# What an archive's name promises and the bytes it must start with.
ARCHIVES = ((".zip", b"PK", "zip"), (".gz", b"\x1f\x8b", "gzip"))


def check_database(settings: Settings | None = None) -> None:
    """The warehouse answers: `MEDMIRROR_DATABASE_URL`'s server, or the embedded one
    (started here when it is stopped, unless its port is taken)."""
    settings = settings or load_settings()
    if settings.database_url:
        try:
            info = ConnectionInfo.from_url(settings.database_url)
        except ValueError as bad:
            raise Refused(f"MEDMIRROR_DATABASE_URL: {bad}") from None
        check_reachable(info, "MEDMIRROR_DATABASE_URL")
        return
    try:
        EmbeddedWarehouse(settings).ensure_started()
    except PortTaken as taken:
        raise Refused(str(taken)) from None
    except WarehouseError as failure:
        raise Refused(f"the embedded PostgreSQL did not start: {first_line(failure)}") from None


def check_reachable(info: ConnectionInfo, setting: str) -> None:
    """Connect once (within `CONNECT_TIMEOUT_S`); a refusal names the server and the setting."""
    try:
        conn = psycopg2.connect(**info.psycopg_kwargs(), connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg2.OperationalError as failure:
        raise Refused(unreachable_message(info, setting, failure)) from None
    conn.close()


def unreachable_message(info: ConnectionInfo, setting: str, failure: Exception) -> str:
    reason = first_line(failure).removeprefix("connection to server at ")
    return (
        f"cannot reach the database {info.url(with_password=False)} ({setting}): {reason}; "
        "start that PostgreSQL, or point the setting at one that runs"
    )


def first_line(failure: BaseException) -> str:
    """The first non-empty line of an error's text (PostgreSQL and pg_ctl add several)."""
    lines = [line.strip() for line in str(failure).splitlines() if line.strip()]
    return lines[0] if lines else type(failure).__name__
