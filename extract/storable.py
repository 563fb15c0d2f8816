"""Rows PostgreSQL cannot store, found before they enter a load package.

A NUL character in a text column (PostgreSQL text cannot hold one), a `\\u0000` escape or
a lone UTF-16 surrogate escape in a JSON document (jsonb refuses both), and any text or
document over the configured sizes would fail the whole load package, and dlt would retry
that package first on every later run. `split_storable` checks every batch (vectorised
with Arrow compute: a clean batch costs a few scans) and splits the bad rows out, each with
the reason and where it is, for `raw_<source>.rejects`.

Limits (`[landing]` in `.dlt/config.toml`, or `LANDING__MAX_RECORD_BYTES` ...):
`max_record_bytes` for a JSON document (jsonb holds at most 255 MB) and `max_text_bytes`
for any other text value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import dlt
import pyarrow as pa
import pyarrow.compute as pc

MAX_RECORD_BYTES = 128 * 1024 * 1024
MAX_TEXT_BYTES = 64 * 1024 * 1024

# A JSON escape `\u0000` that is not itself an escaped backslash followed by "u0000".
JSON_NUL = r"(^|[^\\])(\\\\)*\\u0000"
# An escaped backslash, a high surrogate escape (with its low one, if it has it), or a
# low surrogate escape on its own.
JSON_SURROGATE = re.compile(
    r"(\\\\)|\\u([dD][89abAB][0-9a-fA-F]{2})(\\u[dD][c-fC-F][0-9a-fA-F]{2})?"
    r"|\\u([dD][c-fC-F][0-9a-fA-F]{2})"
)


@dataclass(frozen=True)
class Limits:
    max_record_bytes: int = MAX_RECORD_BYTES
    max_text_bytes: int = MAX_TEXT_BYTES

    @classmethod
    def configured(cls) -> Limits:
        record = dlt.config.get("landing.max_record_bytes", int)
        text = dlt.config.get("landing.max_text_bytes", int)
        return cls(int(record or MAX_RECORD_BYTES), int(text or MAX_TEXT_BYTES))


@dataclass(frozen=True)
class Unstorable:
    """One row of a batch that cannot be stored, and why."""

    row: int  # its index in the batch
    column: str
    problem: str


def unstorable_rows(
    table: pa.Table | pa.RecordBatch, json_columns: Sequence[str], limits: Limits
) -> list[Unstorable]:
    """Every row of `table` PostgreSQL would refuse (one reason per row: the first found)."""
    found: dict[int, Unstorable] = {}
    for name in table.column_names:
        column = table.column(name)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        is_json = name in json_columns
        limit = limits.max_record_bytes if is_json else limits.max_text_bytes
        for row in _indices(pc.greater(pc.binary_length(column), limit)):
            size = len(column[row].as_py().encode())
            found.setdefault(
                row,
                Unstorable(row, name, f"{name} is {size:,} bytes, over the limit of {limit:,}"),
            )
        if is_json:
            _json_escapes(column, name, found)
        else:
            for row in _indices(pc.match_substring(column, "\x00")):
                at = column[row].as_py().index("\x00")
                found.setdefault(
                    row,
                    Unstorable(
                        row,
                        name,
                        f"a NUL character in {name} at character {at:,}: "
                        "PostgreSQL text cannot hold it",
                    ),
                )
    return [found[row] for row in sorted(found)]


def _json_escapes(column: pa.ChunkedArray, name: str, found: dict[int, Unstorable]) -> None:
    # The cheap substring scans first: the regular expressions run only on candidates.
    for row in _indices(pc.match_substring(column, "\\u0000")):
        text = column[row].as_py()
        hit = re.search(JSON_NUL, text)
        if hit:
            found.setdefault(
                row,
                Unstorable(
                    row,
                    name,
                    f"a NUL character (\\u0000) in {name} at character "
                    f"{hit.end() - 6:,}: jsonb cannot hold it",
                ),
            )
    for row in _indices(pc.match_substring(column, "\\ud", ignore_case=True)):
        at = lone_surrogate(column[row].as_py())
        if at is not None:
            found.setdefault(
                row,
                Unstorable(
                    row,
                    name,
                    f"a lone UTF-16 surrogate escape in {name} at character "
                    f"{at:,}: jsonb cannot hold it",
                ),
            )


def lone_surrogate(json_text: str) -> int | None:
    """Where the first `\\uD800`-`\\uDFFF` escape without its pair is, or None."""
    for match in JSON_SURROGATE.finditer(json_text):
        if match.group(1):
            continue  # an escaped backslash: what follows is not an escape
        if match.group(2) and match.group(3):
            continue  # a high surrogate followed by its low one
        return match.start()
    return None


def _indices(mask: pa.ChunkedArray | pa.Array) -> list[int]:
    if not pc.any(mask).as_py():
        return []
    return pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist()
