"""data.cdc.gov's CSV export of a PLACES dataset (the "Export" button, or
`/api/views/<id>/rows.csv?accessType=DOWNLOAD`): the bulk way in.

An export is recognised by its header, not its name: PLACES' columns (`Year`,
`LocationID`, `MeasureId`, `DataValueTypeID`, `Data_Value`, ...). A tract export has
`CountyFIPS`; a county export has not. Column names become the SODA API's field names
(`Data_Value` -> `data_value`, `MeasureId` -> `measureid`): a row from an export lands as
the same document the API sends, empty fields left out (the API omits them) and the
values as text. Read with Arrow in blocks, never whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from extract.bulk import BulkMember, peek
from extract.cdcplaces.settings import SOURCE
from extract.delimited import UNREADABLE, json_objects, snake_case
from extract.errors import MalformedInput

# The columns every PLACES export has (as the SODA field names).
REQUIRED = ("year", "locationid", "measureid", "datavaluetypeid", "data_value")
# A location id's length by geography: county FIPS (5), census tract FIPS (11).
LOCATION_ID_LENGTH = {"county": 5, "tract": 11}
READ_BLOCK_BYTES = 8 << 20


@dataclass(frozen=True)
class ExportLayout:
    geography: str  # "county" or "tract"
    names: tuple[str, ...]  # the columns as SODA field names


def export_layout(member: BulkMember) -> ExportLayout | None:
    """The layout of a PLACES CSV export, from its header line; None when it is not one."""
    head = peek(member, 8 * 1024)
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    names = tuple(snake_case(name) for name in text.split(","))
    if not all(name in names for name in REQUIRED):
        return None
    return ExportLayout("tract" if "countyfips" in names else "county", names)


def content_key(member: BulkMember) -> str:
    """What identifies an export landed: the first 16 hex digits of its SHA-256."""
    digest = hashlib.sha256()
    try:
        with member.open() as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    except UNREADABLE as broken:
        raise MalformedInput(SOURCE, member.uri, f"cannot read: {broken}") from None
    return digest.hexdigest()[:16]


@dataclass
class ExportBatch:
    """Landing columns of one block of an export, and the rows it could not land."""

    rows: pa.Table  # geography, year, locationid, measureid, datavaluetypeid, record
    problems: list[tuple[str, str]]  # (problem, position)
    first_line: int  # the file line of the block's first row


def read_export(
    member: BulkMember, layout: ExportLayout, *, skip_rows: int = 0, slice_rows: int = 100_000
) -> Iterator[ExportBatch]:
    """The export's rows in batches of at most `slice_rows`, from data row `skip_rows` on
    (a window resumed).

    A row whose key fields are empty, whose year is not a year or whose location id is not
    a FIPS code of the export's geography is a problem (with its line) and not landed.
    Raises `MalformedInput` when the file cannot be read as CSV (where it broke).
    """
    names = list(layout.names)
    line = 2 + skip_rows  # the header is line 1
    try:
        with member.open() as stream:
            stream.readline()
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    column_names=names,
                    skip_rows=skip_rows,
                    use_threads=False,
                    block_size=READ_BLOCK_BYTES,
                ),
                parse_options=pacsv.ParseOptions(delimiter=",", quote_char='"'),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                ),
            )
            for block in reader:
                for start in range(0, block.num_rows, slice_rows):
                    rows = pa.Table.from_batches([block.slice(start, slice_rows)])
                    yield _landing(rows, layout.geography, line)
                    line += rows.num_rows
    except pa.ArrowInvalid as bad:
        raise MalformedInput(SOURCE, member.uri, f"not CSV after line {line}: {bad}") from None
    except UNREADABLE as broken:
        raise MalformedInput(SOURCE, member.uri, f"cannot read: {broken}") from None


def _landing(rows: pa.Table, geography: str, first_line: int) -> ExportBatch:
    location = rows["locationid"]
    year = rows["year"]
    ok = pc.and_(
        pc.and_(
            pc.is_valid(rows["measureid"]),
            pc.is_valid(rows["datavaluetypeid"]),
        ),
        pc.and_(
            pc.fill_null(pc.match_substring_regex(year, r"^\d{4}$"), False),
            pc.fill_null(
                pc.match_substring_regex(location, rf"^\d{{{LOCATION_ID_LENGTH[geography]}}}$"),
                False,
            ),
        ),
    )
    problems = [
        (
            f"a {geography} row without a year, {geography} FIPS, measure or value type: "
            f"year={year[n].as_py()!r} locationid={location[n].as_py()!r} "
            f"measureid={rows['measureid'][n].as_py()!r}",
            f"line {first_line + n}",
        )
        for n, good in enumerate(ok.to_pylist())
        if not good
    ]
    kept = rows.filter(ok)
    landing = pa.table(
        {
            "geography": pa.array([geography] * kept.num_rows, pa.string()),
            "year": pc.cast(kept["year"], pa.int32()),
            "locationid": kept["locationid"],
            "measureid": kept["measureid"],
            "datavaluetypeid": kept["datavaluetypeid"],
            "record": _without_nulls(json_objects(kept)),
        }
    )
    return ExportBatch(landing, problems, first_line)


def _without_nulls(records: pa.ChunkedArray) -> pa.ChunkedArray:
    """The documents without their empty fields (`"name":null`), as the API sends them."""
    return pc.replace_substring_regex(
        pc.replace_substring_regex(records, r',"[a-z0-9_]+":null', ""),
        r'^\{"[a-z0-9_]+":null,?',
        "{",
    )
