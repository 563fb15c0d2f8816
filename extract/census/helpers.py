"""Parsing particular to the Census Data API: a JSON array of arrays, the first one the
header (variable names, then the geography columns), every value a string."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa

from extract.census.settings import GEOID_PARTS, SOURCE
from extract.errors import MalformedInput
from extract.raw import RawTable

# `raw_census.estimates`, one row per vintage and geography unit.
ESTIMATES = RawTable(
    "estimates",
    (
        pa.field("year", pa.int32(), nullable=False),
        pa.field("geography", pa.string(), nullable=False),
        pa.field("geoid", pa.string(), nullable=False),
    ),
    indexes=(("year", "geography", "geoid"),),
)


def query_params(
    variables: tuple[str, ...] | list[str], geography: str, state: str | None
) -> dict[str, str]:
    """`get=...&for=county:*` or `get=...&for=tract:*&in=state:06`."""
    params = {"get": ",".join(variables), "for": f"{geography}:*"}
    if state:
        params["in"] = f"state:{state}"
    return params


def header_and_rows(document: Any, *, where: str) -> tuple[list[str], list[Any]]:
    """The header and the data rows of an answer; anything else is malformed."""
    if (
        not isinstance(document, list)
        or not document
        or not isinstance(document[0], list)
        or not all(isinstance(name, str) for name in document[0])
    ):
        raise MalformedInput(SOURCE, where, "not a JSON array of arrays with a header row")
    return document[0], document[1:]


def estimate_rows(
    header: list[str], rows: list[Any], *, year: int, geography: str, source_uri: str
) -> Iterator[dict[str, Any] | MalformedInput]:
    """A landing row per data row (the record maps each header name to its value), or a
    `MalformedInput` for a row that does not fit the header or lacks its FIPS codes."""
    parts = GEOID_PARTS[geography]
    missing = [part for part in parts if part not in header]
    if missing:
        raise MalformedInput(SOURCE, source_uri, f"the header has no {', '.join(missing)} column")
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        where = f"{source_uri} row {number}"
        if not isinstance(row, list) or len(row) != len(header):
            yield MalformedInput(
                SOURCE, where, f"{_length(row)} values for a header of {len(header)}"
            )
            continue
        record = dict(zip(header, row, strict=True))
        codes = [record[part] for part in parts]
        if not all(isinstance(code, str) and code.isdigit() for code in codes):
            yield MalformedInput(SOURCE, where, f"FIPS codes {codes} are not all digits")
            continue
        yield {
            "year": year,
            "geography": geography,
            "geoid": "".join(codes),
            "record": orjson.dumps(record).decode(),
            "source_uri": source_uri,
            "deleted": False,
        }


def _length(row: Any) -> int | str:
    return len(row) if isinstance(row, list) else f"not a list but {type(row).__name__}:"
