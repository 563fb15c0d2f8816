"""Rows of DrugCentral's tables as landing rows."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import pyarrow as pa

from extract.hosts import is_loopback
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


def with_tls(url: str, *, verify: bool = True) -> str:
    """`url` asking for TLS with the server's certificate verified against the system's
    roots (`sslmode=verify-full`), unless it names its own `sslmode` or its host is this
    machine (a restored dump). `verify=False`: no TLS at all (a server that offers none)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "sslmode" for name, _ in query) or is_loopback(parts.hostname or "localhost"):
        return url
    tls = (
        [("sslmode", "verify-full"), ("sslrootcert", "system")]
        if verify
        else [("sslmode", "disable")]
    )
    return urlunsplit(parts._replace(query=urlencode(query + tls)))


AUTHENTICATION_FAILED = (
    "password authentication failed",
    "no password supplied",
    "authentication failed",
    "does not exist",  # the role or the database
    "pg_hba.conf rejects",
    "no pg_hba.conf entry",
)


def is_final(failure: str) -> bool:
    """Whether a connection failure will fail again the same way (wrong credentials, a
    database that is not there, a certificate that does not verify): not worth retrying."""
    text = failure.lower()
    return any(words in text for words in AUTHENTICATION_FAILED) or "certificate" in text


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
