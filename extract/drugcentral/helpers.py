"""Rows of DrugCentral's tables as landing rows."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import pyarrow as pa

from extract.raw import RawTable


def drugcentral_table(name: str, key: str, *, indexed: bool) -> RawTable:
    """A raw table of DrugCentral: its key (as text), the release it came from, the row."""
    return RawTable(
        name,
        (
            pa.field(key, pa.string(), nullable=False),
            pa.field("db_version", pa.int64(), nullable=False),
        ),
        indexes=((key,),) if indexed else (),
    )


# What each release landed: its number, date and the licence that comes with it.
RELEASES = RawTable(
    "releases",
    (
        pa.field("db_version", pa.int64(), nullable=False),
        pa.field("released_at", pa.timestamp("us", tz="UTC")),
        pa.field("licence", pa.string(), nullable=False),
        pa.field("licence_url", pa.string(), nullable=False),
        pa.field("attribution", pa.string(), nullable=False),
        pa.field("source_uri", pa.string(), nullable=False),
        pa.field("landed_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ),
    contract=False,
)


def without_password(url: str) -> str:
    """The connection string fit for `source_uri` and logs: user kept, password dropped."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def sqlalchemy_url(url: str) -> str:
    """`url` with the psycopg2 driver named: SQLAlchemy 2.1 reads a bare `postgresql://` as
    psycopg 3, which medmirror does not install."""
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg2://" + url[len(bare) :]
    return url


def landing_row(
    row: dict[str, Any], *, key: str, db_version: int, source_uri: str
) -> dict[str, Any] | None:
    """The landing row of one table row (None when its key is empty)."""
    row = {str(name): value for name, value in row.items()}  # SQLAlchemy's quoted names
    value = row.get(key)
    if value is None or value == "":
        return None
    return {
        key: str(value),
        "db_version": db_version,
        "record": orjson.dumps(row, default=str).decode(),
        "source_uri": source_uri,
        "deleted": False,
    }
