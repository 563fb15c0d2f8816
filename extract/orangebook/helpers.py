"""Reading the Orange Book's tilde-delimited text files into landing tables, with pyarrow.

Each file is parsed by pyarrow's streaming CSV reader, single-threaded so that a row's
number is its line in the file: a row with the wrong number of fields is skipped by the
reader and reported with its line, the rest of the file is read. Every field is read as
text, exactly as published (application numbers keep their leading zeros, empty fields
stay empty strings). `record`, the row as a JSON object with snake_case field names, is
built column by column with Arrow compute functions, never row by row in Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from extract.bulk import BulkMember, peek
from extract.delimited import UNREADABLE, RaggedRow, json_objects, snake_case
from extract.errors import MalformedInput
from extract.orangebook.settings import (
    DATE_FORMAT,
    DELIMITER,
    READ_BLOCK_BYTES,
    SOURCE,
)
from extract.raw import RawTable

ARROW_ROW = re.compile(r"Row #(\d+)")
HEADER_BYTES = 4096  # a header line is about 150 characters


@dataclass(frozen=True)
class ReleaseFile:
    """One text file of a release and the raw table it lands in."""

    table: str  # raw table, `raw_orangebook.<table>`
    file_name: str  # the file's name in the release
    keys: tuple[str, ...]  # natural key fields, landed as text columns too
    date_field: str | None = None  # a "Mon D, YYYY" field also landed as a date (cursor)

    @cached_property
    def raw_table(self) -> RawTable:
        """`raw_orangebook.<table>`: its keys as text, the date, the release time; dbt
        finds each table's latest release through the index."""
        dates = [pa.field(self.date_field, pa.date32())] if self.date_field else []
        dates_named = [self.date_field] if self.date_field else []
        return RawTable(
            self.table,
            (
                *(pa.field(key, pa.string(), nullable=False) for key in self.keys),
                *dates,
                pa.field("release", pa.timestamp("s"), nullable=False),
            ),
            indexes=(("release", "_dlt_load_id"),),
            # The keys and the date are fields of the record too, under the same names.
            record_paths=tuple((name, name) for name in (*self.keys, *dates_named)),
        )


RELEASE_FILES = (
    ReleaseFile(
        "products", "products.txt", ("appl_type", "appl_no", "product_no"), "approval_date"
    ),
    ReleaseFile(
        "patents",
        "patent.txt",
        ("appl_type", "appl_no", "product_no", "patent_no", "patent_use_code"),
    ),
    ReleaseFile(
        "exclusivities",
        "exclusivity.txt",
        ("appl_type", "appl_no", "product_no", "exclusivity_code", "exclusivity_date"),
    ),
)


def release_file_of(member: BulkMember) -> ReleaseFile | None:
    """The release file a member is, by its header line: the file whose key columns it
    names (the most of them: a patent or exclusivity header names a product's key too),
    whatever the file is called. A file with no readable header (empty, not text) is the
    release file its name says (`products.txt`, any case, `.gz` allowed), to be rejected
    with what is wrong when it is read; any other file is none."""
    first = peek(member, HEADER_BYTES).split(b"\n", 1)[0]
    names = {
        snake_case(name)
        for name in first.decode("utf-8-sig", errors="replace").rstrip("\r").split(DELIMITER)
    }
    if len(names) > 1:
        matching = [file for file in RELEASE_FILES if set(file.keys) <= names]
        return max(matching, key=lambda file: len(file.keys), default=None)
    base = member.name.rsplit("/", 1)[-1].lower().removesuffix(".gz")
    return next((file for file in RELEASE_FILES if file.file_name == base), None)


@dataclass
class ParsedFile:
    rows: pa.Table  # every field as text, columns named in snake_case
    ragged: list[RaggedRow] = field(default_factory=list)


def read_release_file(member: BulkMember, release_file: ReleaseFile) -> ParsedFile:
    """All rows of one release file, or `MalformedInput` naming the file and where it broke
    (an unreadable archive or member, an empty file, invalid UTF-8, a missing key column).
    Rows with the wrong number of fields are skipped and listed in `ragged`."""
    if member.problem:
        raise MalformedInput(SOURCE, member.uri, member.problem)
    ragged: list[RaggedRow] = []

    def skip_ragged(row: Any) -> str:  # a pyarrow.csv.InvalidRow
        line = row.number + 1 if row.number is not None else None  # + the header line
        ragged.append(RaggedRow(line, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    try:
        with member.open() as stream:
            names = _header(stream, member.uri, release_file)
            try:
                reader = pacsv.open_csv(
                    stream,
                    read_options=pacsv.ReadOptions(
                        column_names=names, use_threads=False, block_size=READ_BLOCK_BYTES
                    ),
                    # Fields holding a double quote are written CSV-style by FDA:
                    # "HY-PAM ""25""" is the trade name HY-PAM "25".
                    parse_options=pacsv.ParseOptions(
                        delimiter=DELIMITER, quote_char='"', invalid_row_handler=skip_ragged
                    ),
                    convert_options=pacsv.ConvertOptions(
                        column_types=dict.fromkeys(names, pa.string()),
                        strings_can_be_null=False,
                        quoted_strings_can_be_null=False,
                    ),
                )
                rows = pa.Table.from_batches(list(reader), schema=reader.schema)
            except pa.ArrowInvalid as bad:
                if "Empty CSV file" in str(bad):
                    raise MalformedInput(
                        SOURCE, member.uri, "no data rows after the header line"
                    ) from None
                raise MalformedInput(SOURCE, member.uri, _arrow_problem(bad)) from None
    except UNREADABLE as broken:
        raise MalformedInput(SOURCE, member.uri, f"cannot read: {broken}") from None
    if rows.num_rows == 0:
        raise MalformedInput(SOURCE, member.uri, "no data rows after the header line")
    return ParsedFile(rows=rows, ragged=ragged)


def _header(stream: BinaryIO, uri: str, release_file: ReleaseFile) -> list[str]:
    """The snake_case column names on the first line (the stream is left after it)."""
    line = stream.readline()
    if not line.strip():
        raise MalformedInput(SOURCE, uri, "empty file: no header line at line 1")
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        raise MalformedInput(
            SOURCE, uri, f"not valid UTF-8 at line 1 (byte {bad.start}): {bad.reason}"
        ) from None
    names = [snake_case(name) for name in text.rstrip("\r\n").split(DELIMITER)]
    missing = [key for key in release_file.keys if key not in names]
    if missing or len(set(names)) != len(names):
        raise MalformedInput(
            SOURCE,
            uri,
            f"line 1 is not a {release_file.file_name} header (missing {missing or 'none'}, "
            f"columns {names})",
        )
    return names


def _arrow_problem(error: pa.ArrowInvalid) -> str:
    """pyarrow's message with its row number turned into a line of the file."""
    message = str(error)
    found = ARROW_ROW.search(message)
    line = f"line {int(found.group(1)) + 1}: " if found else ""
    if "invalid UTF8" in message:
        return f"not valid UTF-8 at {line}{message}"
    return f"cannot parse at {line}{message}" if line else f"cannot parse: {message}"


def landing_table(
    parsed: ParsedFile, release_file: ReleaseFile, *, source_uri: str, release: datetime
) -> pa.Table:
    """The landing rows of one release file: keys, cursor, `record`, provenance."""
    rows = parsed.rows
    count = rows.num_rows
    columns: dict[str, Any] = {key: rows[key] for key in release_file.keys}
    if release_file.date_field:
        columns[release_file.date_field] = parse_dates(rows[release_file.date_field])
    columns["release"] = pa.repeat(pa.scalar(release, pa.timestamp("s")), count)
    columns["record"] = json_objects(rows)
    columns["source_uri"] = pa.repeat(pa.scalar(source_uri), count)
    columns["deleted"] = pa.repeat(pa.scalar(False), count)
    schema = release_file.raw_table.schema
    return pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)


def parse_dates(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """ "Oct 18, 2019" as a date; anything else ("Approved Prior to Jan 1, 1982") null."""
    parsed = pc.strptime(values, format=DATE_FORMAT, unit="s", error_is_null=True)
    return parsed.cast(pa.date32())


def release_time(members: Iterable[BulkMember]) -> datetime | None:
    """When the release was made: the newest modification time of its files (a zip
    member's own time, or a file's; both as local wall-clock time, as zips keep it)."""
    newest: datetime | None = None
    for member in members:
        if member.problem:
            continue
        try:
            if member.member is not None:
                stamp = datetime(*member.member.date_time)
            else:
                stamp = datetime.fromtimestamp(member.path.stat().st_mtime).replace(microsecond=0)
        except (ValueError, OSError):  # an impossible zip date, a file gone
            continue
        newest = stamp if newest is None or stamp > newest else newest
    return newest
