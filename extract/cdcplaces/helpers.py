"""The Socrata SODA wire format (a JSON array of flat objects, values as strings, paged
with `$limit`/`$offset`) and the rows of CDC PLACES."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa

from extract.cdcplaces.settings import KEY_FIELDS, SOURCE
from extract.errors import MalformedInput
from extract.http import PublisherClient
from extract.raw import RawTable

# `raw_cdcplaces.measures`, one row per place, year, measure and value type.
MEASURES = RawTable(
    "measures",
    (
        pa.field("geography", pa.string(), nullable=False),
        pa.field("year", pa.int32(), nullable=False),
        pa.field("locationid", pa.string(), nullable=False),
        pa.field("measureid", pa.string(), nullable=False),
        pa.field("datavaluetypeid", pa.string(), nullable=False),
    ),
    indexes=(("locationid", "year"),),
    record_paths=tuple(
        (name, name) for name in ("year", "locationid", "measureid", "datavaluetypeid")
    ),
)


def soql_where(since_year: int | None, extra: str) -> str | None:
    """`$where`: the rows from the cursor's year on (years are text in PLACES), and the
    configured condition."""
    conditions = [f"year >= '{since_year}'"] if since_year else []
    if extra.strip():
        conditions.append(f"({extra.strip()})")
    return " AND ".join(conditions) or None


def socrata_pages(
    client: PublisherClient,
    url: str,
    *,
    params: dict[str, Any],
    page_size: int,
    offset: int = 0,
    what: str,
) -> Iterator[tuple[int, str, list[dict[str, Any]]]]:
    """(offset, request URL, rows) of each page from `offset` on, ordered by Socrata's row
    id (`$order=:id`, stable paging); the first page shorter than `page_size` is the last.
    """
    while True:
        query = {**params, "$order": ":id", "$limit": page_size, "$offset": offset}
        where = f"{what} at offset {offset}"
        response = client.get(url, params=query, what=where)
        try:
            rows = orjson.loads(response.content)
        except orjson.JSONDecodeError as bad:
            raise MalformedInput(
                SOURCE, where, f"the answer of {client.scrub(response.url)} is not JSON: {bad}"
            ) from None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise MalformedInput(SOURCE, where, "not a JSON array of rows")
        yield offset, client.scrub(response.url), rows
        if len(rows) < page_size:
            return
        offset += page_size


def measure_row(
    row: dict[str, Any], *, geography: str, source_uri: str
) -> dict[str, Any] | MalformedInput:
    """The landing row of one PLACES row, or why it cannot land."""
    missing = [name for name in KEY_FIELDS if not row.get(name)]
    if missing:
        return MalformedInput(
            SOURCE,
            f"{source_uri} row {orjson.dumps(row).decode()[:200]}",
            f"a row without {', '.join(missing)}",
        )
    try:
        year = int(row["year"])
    except (TypeError, ValueError):
        return MalformedInput(SOURCE, source_uri, f"year {row['year']!r} is not a year")
    return {
        "geography": geography,
        "year": year,
        "locationid": str(row["locationid"]),
        "measureid": str(row["measureid"]),
        "datavaluetypeid": str(row["datavaluetypeid"]),
        "record": orjson.dumps(row).decode(),
        "source_uri": source_uri,
        "deleted": False,
    }
