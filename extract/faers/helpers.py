"""Reading FAERS quarterly ASCII files into landing tables (pyarrow), and openFDA pages.

A quarter's files are `$`-delimited text with a header line, one file per kind
(DEMOyyQq, DRUGyyQq, ...). Two layouts exist and are told apart by the header:

- FAERS (from 2012Q4): keyed by `primaryid` (one case version) and `caseid`.
- legacy AERS (2004Q1 to 2012Q3): keyed by `isr` (one report, i.e. one case version);
  DEMO alone carries `case`. Every line ends with a `$`, an empty trailing column (its
  header name is empty, or `vNN` in copies re-written by R's data.table): dropped.

Each file is parsed by pyarrow's streaming CSV reader, single-threaded so that a row's
number is its line in the file; every field is read as bytes and decoded column by
column: a column that is not valid UTF-8 (real quarters hold Latin-1 names) is decoded
value by value, the bad values as Latin-1, and the rows are counted. A row with the wrong
number of fields is skipped by the reader and reported with its line. `record` is the
row as a JSON object (the publisher's field names in snake_case), built with Arrow
compute functions, never row by row in Python.

The deleted-case lists FDA ships inside newer quarterly zips (`Deleted/DELETEyyQq.txt`)
hold one case id a line (no sample was available: the reader accepts an optional
`caseid` header line and lands every other line as a case id, as written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from extract.bulk import BulkMember, peek
from extract.delimited import UNREADABLE, RaggedRow, json_objects, snake_case
from extract.errors import MalformedInput
from extract.faers.settings import DELIMITER, READ_BLOCK_BYTES, SOURCE
from extract.limits import read_whole
from extract.raw import RawTable

FAERS = "faers"
LEGACY = "aers"

# file kind (as FDA names the file) -> raw table
KINDS = {
    "DEMO": "demo",
    "DRUG": "drug",
    "REAC": "reac",
    "OUTC": "outc",
    "RPSR": "rpsr",
    "THER": "ther",
    "INDI": "indi",
    "DELETE": "deleted_cases",
}
DELETED_TABLE = "deleted_cases"
LEDGER_TABLE = "quarter_files"
# The quarter a file's name says: DRUG17Q2.txt, drug17q2.txt, DEMO18Q1_new.txt, DRUG04Q1.TXT.
NAME_QUARTER = re.compile(r"(?<!\d)(?P<yy>\d{2})Q(?P<q>[1-4])(?!\d)", re.IGNORECASE)
# ... or its archive's or folder's: faers_ascii_2017q2.zip, aers_ascii_2004q1.zip.
ARCHIVE_QUARTER = re.compile(r"(?P<year>(19|20)\d{2})q(?P<q>[1-4])", re.IGNORECASE)
# A deleted-case list has no header line to recognise it by: DELETE17Q3.txt (Deleted/).
DELETED_NAME = re.compile(r"DELETED?[_ -]?(CASES?[_ -]?)?\d{2}Q[1-4]\w*\.txt", re.IGNORECASE)
# The column that tells each kind of file apart in its header, in both layouts (FAERS and
# legacy AERS): DEMO reports, DRUG drugs, REAC reactions, OUTC outcomes, RPSR report
# sources, THER therapies, INDI indications.
KIND_COLUMNS = {
    "DEMO": "rept_cod",
    "DRUG": "drugname",
    "REAC": "pt",
    "OUTC": "outc_cod",
    "RPSR": "rpsr_cod",
    "THER": "dur_cod",
    "INDI": "indi_pt",
}
HEADER_BYTES = 4096
DELETED_HEADERS = ("caseid", "case_id", "case")  # an optional header line of a deleted list
TRAILING_NAME = re.compile(r"v\d+")
SHOWN_KEYS = 10  # how many keys of recoded rows a ledger row names


@dataclass(frozen=True)
class QuarterFile:
    """One file of a quarterly extract: its kind and the quarter it belongs to."""

    kind: str  # DEMO, DRUG, ..., DELETE
    quarter: str  # 2017Q2

    @property
    def table(self) -> str:
        return KINDS[self.kind]

    @property
    def key(self) -> str:
        """The file in the bulk ledger: its quarter and kind (`2017Q2 DRUG`)."""
        return f"{self.quarter} {self.kind}"


def file_kind_of(member: BulkMember) -> str | None:
    """What kind of quarterly file a member is, by its content: a `$`-delimited header
    naming a report key (`primaryid`, or legacy AERS `isr`) and the column that tells the
    kind (FDA has named the files `DRUG17Q2.txt`, `drug17q2.txt`, `DRUG04Q1.TXT`, ...);
    a deleted-case list, which has no header, by its name and its first line (a case id).
    None for any other file (the README, the FAQ, another publisher's file)."""
    first = peek(member, HEADER_BYTES).split(b"\n", 1)[0]
    text = first.decode("utf-8-sig", errors="replace").rstrip("\r")
    if DELIMITER in text:
        names = {snake_case(name) for name in text.split(DELIMITER)}
        if not names & {"primaryid", "isr"}:
            return None
        return next((kind for kind, column in KIND_COLUMNS.items() if column in names), None)
    base = re.split(r"[/\\]", member.name)[-1].removesuffix(".gz")
    value = text.strip()
    if DELETED_NAME.fullmatch(base) and (
        not value or value.isdigit() or snake_case(value) in DELETED_HEADERS
    ):
        return "DELETE"
    return None


def quarter_of(member: BulkMember) -> str | None:
    """The quarter a file belongs to (`2017Q2`): from its name (`DRUG17Q2.txt`), else from
    its archive's or folder's (`faers_ascii_2017q2.zip`); None when neither says."""
    base = re.split(r"[/\\]", member.name)[-1]
    found = NAME_QUARTER.search(base)
    if found:
        yy = int(found["yy"])
        return f"{2000 + yy if yy < 70 else 1900 + yy}Q{found['q']}"
    dated = list(ARCHIVE_QUARTER.finditer(member.uri))
    return f"{dated[-1]['year']}Q{dated[-1]['q']}" if dated else None


def quarter_order(quarter: str) -> tuple[int, int]:
    year, q = quarter.upper().split("Q")
    return int(year), int(q)


# -- the landing tables ----------------------------------------------------------------------


def _report_table(name: str, *extra: pa.Field, index: tuple[str, ...]) -> RawTable:
    """A raw table of quarterly-file rows: keys, quarter and layout, then the contract's."""
    return RawTable(
        name,
        (
            pa.field("primaryid", pa.string()),
            pa.field("caseid", pa.string()),
            pa.field("quarter", pa.string(), nullable=False),
            pa.field("layout", pa.string(), nullable=False),
            *extra,
        ),
        indexes=(index,),
        # Legacy AERS names the keys `isr` and `case`.
        record_paths=(
            ("primaryid", "primaryid"),
            ("primaryid", "isr"),
            ("caseid", "caseid"),
            ("caseid", "case"),
            *((field.name, field.name) for field in extra),
        ),
    )


# dbt joins a report's rows by primaryid, and finds a case's versions and deletions by
# caseid.
REPORT_TABLES = {
    "demo": _report_table(
        "demo", pa.field("fda_dt", pa.date32()), index=("caseid", "_dlt_load_id")
    ),
    **{
        table: _report_table(table, index=("primaryid",))
        for table in ("drug", "reac", "outc", "rpsr", "ther", "indi")
    },
    DELETED_TABLE: _report_table(DELETED_TABLE, index=("caseid",)),
}
# What each landed file held: rows landed, rejected and recoded.
LEDGER = RawTable(
    LEDGER_TABLE,
    (
        pa.field("quarter", pa.string(), nullable=False),
        pa.field("file_kind", pa.string(), nullable=False),
        pa.field("layout", pa.string()),
        pa.field("rows_landed", pa.int64(), nullable=False),
        pa.field("rows_rejected", pa.int64(), nullable=False),
        pa.field("rows_recoded", pa.int64(), nullable=False),
        pa.field("landed_at", pa.timestamp("s"), nullable=False),
    ),
)


@dataclass
class ParsedFile:
    rows: pa.Table  # every field as text, columns named in snake_case
    layout: str  # FAERS or LEGACY
    ragged: list[RaggedRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # other lines not landed
    recoded: int = 0  # rows holding a value that was not UTF-8 (decoded as Latin-1)
    recoded_keys: list[str] = field(default_factory=list)


def read_quarter_file(member: BulkMember, kind: str) -> ParsedFile:
    """All rows of one quarterly file, or `MalformedInput` naming the file and where it
    broke (an unreadable archive, an empty file, a header without its key)."""
    if member.problem:
        raise MalformedInput(SOURCE, member.uri, member.problem)
    try:
        with member.open() as stream:
            if kind == "DELETE":
                content = read_whole(stream, source=SOURCE, uri=member.uri)
                return _read_deleted(content, member.uri)
            return _read_delimited(stream, member.uri, kind)
    except UNREADABLE as broken:
        raise MalformedInput(SOURCE, member.uri, f"cannot read: {broken}") from None


def _read_delimited(stream: Any, uri: str, kind: str) -> ParsedFile:
    names, layout = _header(stream.readline(), uri, kind)
    ragged: list[RaggedRow] = []

    def skip_ragged(row: Any) -> str:  # a pyarrow.csv.InvalidRow
        line = row.number + 1 if row.number is not None else None  # + the header line
        ragged.append(RaggedRow(line, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(
                column_names=names, use_threads=False, block_size=READ_BLOCK_BYTES
            ),
            # FAERS fields are never quoted: a `"` is part of the text (literature refs).
            parse_options=pacsv.ParseOptions(
                delimiter=DELIMITER, quote_char=False, invalid_row_handler=skip_ragged
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.binary()),
                strings_can_be_null=False,
            ),
        )
        rows = pa.Table.from_batches(list(reader), schema=reader.schema)
    except pa.ArrowInvalid as bad:
        if "Empty CSV file" in str(bad):
            rows = pa.table({name: pa.array([], pa.binary()) for name in names})
        else:
            raise MalformedInput(SOURCE, uri, f"cannot parse: {bad}") from None
    if names[-1] == "_trailing":
        rows = rows.drop_columns(["_trailing"])
    parsed = ParsedFile(rows=rows, layout=layout, ragged=ragged)
    parsed.rows = _decoded(rows, parsed)
    return parsed


def _header(line: bytes, uri: str, kind: str) -> tuple[list[str], str]:
    """The snake_case column names of a header line, and the layout they say."""
    if not line.strip():
        raise MalformedInput(SOURCE, uri, "empty file: no header line at line 1")
    text = line.decode("utf-8-sig", errors="replace").rstrip("\r\n")
    names = [snake_case(name) for name in text.split(DELIMITER)]
    if names[-1] == "" or TRAILING_NAME.fullmatch(names[-1]):
        names[-1] = "_trailing"  # legacy AERS: every line ends with the delimiter
    if "primaryid" in names:
        layout = FAERS
    elif "isr" in names:
        layout = LEGACY
    else:
        raise MalformedInput(
            SOURCE, uri, f"line 1 is not a {kind} header (no primaryid or isr): {text[:200]!r}"
        )
    if "" in names or len(set(names)) != len(names):
        raise MalformedInput(SOURCE, uri, f"line 1 has empty or repeated names: {names}")
    return names, layout


def _decoded(rows: pa.Table, parsed: ParsedFile) -> pa.Table:
    """Every binary column as text: UTF-8, or value by value Latin-1 where it is not."""
    bad_rows: set[int] = set()
    columns = []
    for name in rows.column_names:
        column = rows[name]
        try:
            columns.append(column.cast(pa.string()))
            continue
        except pa.ArrowInvalid:
            pass
        values = []
        for position, value in enumerate(column.to_pylist()):
            try:
                values.append(value.decode("utf-8"))
            except UnicodeDecodeError:
                values.append(value.decode("latin-1"))
                bad_rows.add(position)
        columns.append(pa.chunked_array([pa.array(values, pa.string())]))
    if bad_rows:
        key = "primaryid" if "primaryid" in rows.column_names else "isr"
        keys = rows[key].take(sorted(bad_rows)[:SHOWN_KEYS]).to_pylist()
        parsed.recoded = len(bad_rows)
        parsed.recoded_keys = [value.decode("latin-1") for value in keys]
    return pa.Table.from_arrays(columns, names=rows.column_names)


def _read_deleted(content: bytes, uri: str) -> ParsedFile:
    """A deleted-case list: one case id a line, an optional header line. A case id lands
    as FDA wrote it, whatever its shape (one that is not a number is counted in
    `ops.faers_data_quality`, never dropped)."""
    text = content.decode("utf-8-sig", errors="replace")
    caseids: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.strip().rstrip(DELIMITER).strip()
        if not value or (number == 1 and snake_case(value) in DELETED_HEADERS):
            continue
        caseids.append(value)
    return ParsedFile(rows=pa.table({"caseid": pa.array(caseids, pa.string())}), layout=FAERS)


def landing_table(parsed: ParsedFile, quarter_file: QuarterFile, *, source_uri: str) -> pa.Table:
    """The landing rows of one quarterly file: keys, quarter, layout, `record`."""
    rows = parsed.rows
    count = rows.num_rows
    legacy = parsed.layout == LEGACY
    columns: dict[str, Any] = {}
    primary = "isr" if legacy else "primaryid"
    case = "case" if legacy else "caseid"
    null = pa.nulls(count, pa.string())
    columns["primaryid"] = rows[primary] if primary in rows.column_names else null
    columns["caseid"] = rows[case] if case in rows.column_names else null
    columns["quarter"] = pa.repeat(pa.scalar(quarter_file.quarter), count)
    columns["layout"] = pa.repeat(pa.scalar(parsed.layout), count)
    if quarter_file.table == "demo":
        columns["fda_dt"] = _dates(rows["fda_dt"]) if "fda_dt" in rows.column_names else null
    columns["record"] = json_objects(rows) if count else pa.array([], pa.string())
    columns["source_uri"] = pa.repeat(pa.scalar(source_uri), count)
    columns["deleted"] = pa.repeat(pa.scalar(quarter_file.kind == "DELETE"), count)
    schema = REPORT_TABLES[quarter_file.table].schema
    return pa.Table.from_arrays(
        [pa.chunked_array(columns[name]).cast(schema.field(name).type) for name in schema.names]
        if count
        else [pa.array([], schema.field(name).type) for name in schema.names],
        schema=schema,
    )


def _dates(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """FAERS YYYYMMDD dates as dates; partial or impossible dates null."""
    parsed = pc.strptime(values, format="%Y%m%d", unit="s", error_is_null=True)
    return parsed.cast(pa.date32())


def ledger_row(
    parsed: ParsedFile | None,
    quarter_file: QuarterFile,
    *,
    source_uri: str,
    landed: int,
    rejected: int,
) -> pa.Table:
    """One row of `raw_faers.quarter_files`: what a file of a quarter landed."""
    record = {
        "quarter": quarter_file.quarter,
        "file_kind": quarter_file.kind,
        "rows_landed": landed,
        "rows_rejected": rejected,
        "rows_recoded": parsed.recoded if parsed else 0,
        "recoded_keys": parsed.recoded_keys if parsed else [],
    }
    row = {
        "quarter": [quarter_file.quarter],
        "file_kind": [quarter_file.kind],
        "layout": [parsed.layout if parsed else None],
        "rows_landed": [landed],
        "rows_rejected": [rejected],
        "rows_recoded": [record["rows_recoded"]],
        "landed_at": [datetime.now().replace(microsecond=0)],
        "record": [orjson.dumps(record).decode()],
        "source_uri": [source_uri],
        "deleted": [False],
    }
    return pa.Table.from_pydict(row, schema=LEDGER.schema)


# -- openFDA /drug/event.json ----------------------------------------------------------------

EVENTS = RawTable(
    "events",
    (
        pa.field("safetyreportid", pa.string(), nullable=False),
        pa.field("safetyreportversion", pa.string()),
        pa.field("receivedate", pa.date32()),
        pa.field("receiptdate", pa.date32()),  # the cursor: when this version was received
    ),
    indexes=(("safetyreportid", "_dlt_load_id"),),
)


def compact_date(value: Any) -> date | None:
    """openFDA's YYYYMMDD as a date (None when it is not one)."""
    try:
        return datetime.strptime(str(value), "%Y%m%d").date()
    except (TypeError, ValueError):
        return None


def event_results(document: Any, *, where: str) -> list[dict[str, Any]]:
    """The `results[]` of an openFDA page (a page without it is malformed)."""
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        raise MalformedInput(SOURCE, where, "the answer has no results[] list")
    return document["results"]


def event_row(result: Any, *, source_uri: str, where: str) -> dict[str, Any]:
    """The landing row of one openFDA safety report, landed unchanged in `record`."""
    report_id = result.get("safetyreportid") if isinstance(result, dict) else None
    if not report_id:
        raise MalformedInput(SOURCE, where, "a result has no safetyreportid")
    version = result.get("safetyreportversion")
    return {
        "safetyreportid": str(report_id),
        "safetyreportversion": None if version is None else str(version),
        "receivedate": compact_date(result.get("receivedate")),
        "receiptdate": compact_date(result.get("receiptdate")),
        "record": orjson.dumps(result).decode(),
        "source_uri": f"{source_uri}?search=safetyreportid:{report_id}",
        "deleted": False,
    }


def receipt_date_search(start: date, end: date) -> str:
    """openFDA's search for report versions received from `start` to `end`, both included
    (`receiptdate`: when FDA received this version; `receivedate` stays the case's first)."""
    return f"receiptdate:[{start:%Y%m%d} TO {end:%Y%m%d}]"
