"""DrugCentral: drugs (active ingredients), their external identifiers (UNII, RxNorm,
ChEMBL, ...), ATC codes and mechanism-of-action targets, read from DrugCentral's public
PostgreSQL database (or a restored dump of it) with dlt's SQL source
(`dlt.sources.sql_database.sql_table`).

One resource, `tables`, landing one raw table per DrugCentral table in `settings.TABLES`
(`raw_drugcentral.structures` keyed by `id`, `identifier` by `id`, `atc` by `code`,
`struct2atc` by `id`, `act_table_full` by `act_id`), each row unchanged in `record`, and
`raw_drugcentral.releases`: the release (`dbversion`: version and date) with DrugCentral's
CC BY-SA 4.0 licence and attribution, kept with the data. The cursor is the release
(`db_version`): a release lands whole in one window, once; a run against the release
already landed lands nothing. A row without its key goes to `raw_drugcentral.rejects`.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import dlt
import pyarrow as pa
import sqlalchemy
from dlt.sources import DltResource
from dlt.sources.sql_database import sql_table

from extract.credentials import with_password
from extract.drugcentral import settings
from extract.drugcentral.helpers import (
    RELEASES,
    drugcentral_table,
    is_final,
    landing_row,
    sqlalchemy_url,
    with_tls,
    without_password,
)
from extract.errors import MalformedInput, PublisherUnavailable, RequestRejected
from extract.landing import MORE_WINDOWS, batches, reject, to_table
from extract.spec import SourceSpec

log = logging.getLogger(__name__)

# dbt looks rows up by their keys (the ATC table is small).
TABLES = {
    table: drugcentral_table(table, key, indexed=table != "atc")
    for table, key in settings.TABLES.items()
}


@dlt.source(name=settings.SOURCE)
def drugcentral(
    database_url: str = settings.DATABASE_URL,
    database_schema: str = settings.DATABASE_SCHEMA,
    chunk_size: int = settings.CHUNK_SIZE,
    bulk_location: str | None = None,
    download_dir: str | None = None,  # noqa: ARG001 - a database: nothing to download
) -> DltResource:
    """The configured DrugCentral database; `bulk_location`: the connection string of
    another one (a restored dump), for `medmirror refresh --bulk`."""
    return tables(
        database_url=with_password(bulk_location or database_url, settings.SOURCE),
        database_schema=database_schema,
        chunk_size=int(chunk_size),
    )


# No `columns` here: it lands several tables, each item bound to its own by `to_table`.
@dlt.resource(name="tables", table_name=RELEASES.name, write_disposition="append")
def tables(database_url: str, database_schema: str, chunk_size: int) -> Iterator[Any]:
    """Every table of a release not landed yet."""
    state = dlt.current.resource_state()
    state[MORE_WINDOWS] = False
    shown = without_password(database_url)
    engine = sqlalchemy.create_engine(sqlalchemy_url(with_tls(database_url)), pool_pre_ping=True)
    try:
        try:
            version, released_at = _release(engine, database_schema, shown)
        except _NoTls:
            if with_tls(database_url) == database_url:  # the URL asked for TLS itself
                raise RequestRejected(
                    settings.SOURCE, shown, "the server offers no TLS, which the URL asks for"
                ) from None
            log.warning(
                "%s: %s offers no TLS: reading it unencrypted (set sslmode in the URL to "
                "decide yourself)",
                settings.SOURCE,
                shown,
            )
            engine.dispose()
            engine = sqlalchemy.create_engine(
                sqlalchemy_url(with_tls(database_url, verify=False)), pool_pre_ping=True
            )
            version, released_at = _release(engine, database_schema, shown)
        if state.get("landed_version") == version:
            log.info("%s: release %s is the one already landed", settings.SOURCE, version)
            return
        log.info("%s: landing release %s from %s", settings.SOURCE, version, shown)
        for table, key in settings.TABLES.items():
            source_uri = f"{shown}#{database_schema}.{table}"
            resource = sql_table(
                credentials=engine,
                table=table,
                schema=database_schema,
                backend="sqlalchemy",
                chunk_size=chunk_size,
                reflection_level="minimal",
            )
            rows = yield from batches(
                _landing_rows(resource, key=key, db_version=version, source_uri=source_uri),
                TABLES[table],
                bind=True,
            )
            log.info("%s: %s, %d rows", settings.SOURCE, table, rows)
        yield to_table(
            pa.Table.from_pylist(
                [
                    {
                        "db_version": version,
                        "released_at": released_at,
                        "licence": settings.LICENCE,
                        "licence_url": settings.LICENCE_URL,
                        "attribution": settings.ATTRIBUTION,
                        "source_uri": f"{shown}#{database_schema}.dbversion",
                        "landed_at": datetime.now(UTC),
                    }
                ],
                schema=RELEASES.schema,
            ),
            RELEASES,
        )
        state["landed_version"] = version
    finally:
        engine.dispose()


def _landing_rows(
    resource: Iterable[Any], *, key: str, db_version: int, source_uri: str
) -> Generator[Any, None, int]:
    """The landing rows of a table's rows (`resource` yields them in chunks), and a reject
    for each without its key; returns how many rows."""
    rows = 0
    for chunk in resource:
        for row in chunk if isinstance(chunk, list) else [chunk]:
            landing = landing_row(row, key=key, db_version=db_version, source_uri=source_uri)
            if landing is None:
                yield reject(
                    MalformedInput(settings.SOURCE, source_uri, f"a row without {key}: {row}")
                )
                continue
            rows += 1
            yield landing
    return rows


class _NoTls(Exception):
    """The server answered that it offers no TLS."""


def _release(engine: sqlalchemy.Engine, schema: str, shown: str) -> tuple[int, datetime | None]:
    """DrugCentral's `dbversion` row: the release number and its date."""
    query = sqlalchemy.text(
        f'select version, dtime from "{schema}".dbversion order by version desc limit 1'  # noqa: S608
    )
    try:
        with engine.connect() as connection:
            row = connection.execute(query).first()
    except sqlalchemy.exc.OperationalError as failure:
        problem = str(failure.orig).strip()
        if "server does not support SSL" in problem:
            raise _NoTls from None
        if is_final(problem):  # wrong credentials: retrying would only hold the refresh lock
            raise RequestRejected(
                settings.SOURCE, shown, f"cannot connect (not retried): {problem[:300]}"
            ) from None
        raise PublisherUnavailable(
            settings.SOURCE, shown, f"cannot connect: {problem[:300]}"
        ) from None
    except sqlalchemy.exc.ProgrammingError as failure:
        raise MalformedInput(
            settings.SOURCE, shown, f"no dbversion table: {str(failure.orig).strip()[:300]}"
        ) from None
    if row is None:
        raise MalformedInput(settings.SOURCE, shown, "dbversion is empty")
    return int(row[0]), row[1]


SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=drugcentral,
    cadence="monthly",
    raw_tables=(*TABLES.values(), RELEASES),
    status_table=RELEASES.name,
    cursor_column="released_at",
    marts=(
        "drugcentral_drugs",
        "drugcentral_identifiers",
        "drugcentral_targets",
        "drugcentral_atc_codes",
        "drugcentral_releases",
        "drug_targets",
        "drug_atc_codes",
        "drug_identifiers",
    ),
)
