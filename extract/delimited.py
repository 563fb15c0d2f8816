"""What every source reading publishers' delimited text files (Orange Book, FAERS) needs:
the errors a broken archive raises, rows skipped for their number of fields, snake_case
column names, and each row as a JSON object built with Arrow compute (never row by row).
"""

from __future__ import annotations

import gzip
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

# What a broken archive or compressed stream raises while a member is read.
UNREADABLE = (zipfile.BadZipFile, EOFError, zlib.error, gzip.BadGzipFile, OSError)
CONTROL_CHARACTERS = "[\\x00-\\x1f]"


@dataclass(frozen=True)
class RaggedRow:
    """A line the reader skipped because it has the wrong number of fields."""

    line: int | None  # its line in the file (the header is line 1)
    expected: int
    found: int
    text: str

    def problem(self) -> str:
        where = f"line {self.line}" if self.line is not None else "a line"
        return (
            f"{where}: expected {self.expected} fields, found {self.found} "
            f"(skipped): {self.text[:300]!r}"
        )


def snake_case(name: str) -> str:
    """A publisher's column name in snake_case: `DF;Route` -> `df_route`."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def json_objects(rows: pa.Table) -> pa.ChunkedArray:
    """Each row of a table of text columns as a JSON object (column name -> value)."""
    parts: list[Any] = []
    for position, name in enumerate(rows.column_names):
        parts.append(("{" if position == 0 else ",") + orjson.dumps(name).decode() + ":")
        parts.append(json_strings(rows[name]))
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "")


def json_strings(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text values as JSON string literals (null as `null`)."""
    escaped = pc.replace_substring(values, "\\", "\\\\")
    escaped = pc.replace_substring(escaped, '"', '\\"')
    if pc.any(pc.match_substring_regex(escaped, CONTROL_CHARACTERS)).as_py():
        for code in range(0x20):
            escaped = pc.replace_substring(escaped, chr(code), f"\\u{code:04x}")
    return pc.fill_null(pc.binary_join_element_wise('"', escaped, '"', ""), "null")
