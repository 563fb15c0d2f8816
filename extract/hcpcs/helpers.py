"""Reading CMS's Alpha-Numeric HCPCS file (`HCPCyyyy_CONTR_ANWEB.txt`), per the record
layout CMS ships with it (`HCPCSyyyy_recordlayout.txt`, 320-character records).

A code's long description continues over several records: the first one (record
identification code 3 for a procedure, 7 for a modifier) carries the detail fields in
positions 92-293, each continuation (4 or 8) only more description, in sequence-number
order. The file is streamed line by line; a code's records are joined into one row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, BinaryIO

import orjson
import pyarrow as pa

from extract.bulk import BulkMember, peek
from extract.errors import MalformedInput
from extract.hcpcs.settings import ENCODING, SOURCE
from extract.landing import batches
from extract.raw import RawTable

FIRST_RECORDS = {"3": "procedure", "7": "modifier"}
CONTINUATIONS = {"4": "procedure", "8": "modifier"}
MONTHS = {"JAN": 1, "APR": 4, "JUL": 7, "OCT": 10}
PEEK_BYTES = 64 * 1024
# The release in a code file's name: HCPC2019_..., HCPC19_..., HCPC2025_OCT_...
FILE_RELEASE = re.compile(
    r"HCPCS?[ _-]?(?P<year>(?:19|20)\d{2}|\d{2})(?:[ _-]+(?P<month>JAN|APR|JUL|OCT))?",
    re.IGNORECASE,
)
# ... or in its archive's: 2019-Alpha-Numeric-HCPCS-File.zip, january-2025-alpha-...zip
ARCHIVE_RELEASE = re.compile(
    r"(?:(?P<month>january|april|july|october)[ _-]+)?(?P<year>(?:19|20)\d{2})", re.IGNORECASE
)


def span(start: int, end: int) -> slice:
    """The layout's 1-based, inclusive BEG-END positions as a slice."""
    return slice(start - 1, end)


def spans(start: int, width: int, count: int) -> list[slice]:
    """A field that OCCURS `count` times, `width` characters each, from `start`."""
    return [span(start + width * n, start + width * (n + 1) - 1) for n in range(count)]


CODE = span(1, 5)
SEQUENCE = span(6, 10)
RECORD_ID = span(11, 11)
LONG_DESCRIPTION = span(12, 91)
# The detail fields of a first record (the layout's fields 8-30).
TEXT_FIELDS = {
    "short_description": span(92, 119),
    "multiple_pricing_indicator": span(128, 128),
    "statute_number": span(171, 180),
    "coverage_code": span(230, 230),
    "asc_payment_group": span(231, 232),
    "mog_payment_group": span(241, 243),
    "mog_payment_policy_indicator": span(244, 244),
    "processing_note_number": span(253, 256),
    "betos_code": span(257, 259),
    "anesthesia_base_units": span(266, 268),
    "action_code": span(293, 293),
}
LIST_FIELDS = {
    "pricing_indicators": spans(120, 2, 4),
    "coverage_issues_manual_sections": spans(129, 6, 3),
    "carriers_manual_sections": spans(147, 8, 3),
    "lab_certification_codes": spans(181, 3, 8),
    "cross_reference_codes": spans(205, 5, 5),
    "type_of_service_codes": spans(261, 1, 5),
}
DATE_FIELDS = {
    "asc_payment_group_effective_date": span(233, 240),
    "mog_effective_date": span(245, 252),
    "added_date": span(269, 276),
    "action_effective_date": span(277, 284),
    "termination_date": span(285, 292),
}

# `raw_hcpcs.codes`; dbt reads one release at a time.
CODES = RawTable(
    "codes",
    (
        pa.field("hcpcs_code", pa.string(), nullable=False),
        pa.field("release", pa.string(), nullable=False),
        pa.field("release_year", pa.int16(), nullable=False),
    ),
    indexes=(("release", "hcpcs_code"),),
    record_paths=(("hcpcs_code", "hcpcs_code"),),
)


def is_code_file(member: BulkMember) -> bool:
    """Whether a file is a release's code file, by its content: CMS has named it in several
    ways over the years (`HCPC2019_CONTR_ANWEB.txt`, `HCPC2020_ANWEB_w_disclaimer.txt`,
    `HCPC2025_OCT_ANWEB_v3.txt`, `HCPC2026_JUL_ANWEB_06172026.txt`), but its records keep
    their layout: a code, a five-digit sequence number and a record identification code in
    position 11, on 320-character lines (after a disclaimer, in some years)."""
    text = peek(member).decode(ENCODING, errors="replace")
    lines = text.splitlines()[:-1] if len(text) >= PEEK_BYTES else text.splitlines()
    records = sum(1 for line in lines if _is_record(line))
    return records >= min(3, len(lines)) and records > 0


def release_of(member: BulkMember) -> tuple[str, int] | None:
    """The release a code file is (`2019`, or `2025-01` for a quarterly one) and its year,
    from its name, else from its archive's (`january-2025-alpha-numeric-hcpcs-file.zip`,
    `2019-Alpha-Numeric-HCPCS-File.zip`); None when neither says."""
    base = member.name.rsplit("/", 1)[-1]
    named = FILE_RELEASE.search(base)
    if named:
        year = _year(named.group("year"))
        month = named.group("month")
        return (f"{year}-{MONTHS[month.upper()]:02d}", year) if month else (str(year), year)
    if member.member is None:
        return None
    archive = member.path.name
    dated = ARCHIVE_RELEASE.search(archive)
    if not dated:
        return None
    year = int(dated.group("year"))
    month = dated.group("month")
    return (f"{year}-{MONTHS[month[:3].upper()]:02d}", year) if month else (str(year), year)


def _year(text: str) -> int:
    return int(text) if len(text) == 4 else 2000 + int(text)


def _is_record(line: str) -> bool:
    """A line laid out as an HCPCS record (a first record or a continuation)."""
    return (
        len(line) >= 12
        and bool(line[CODE].strip())
        and line[SEQUENCE].isdigit()
        and (line[RECORD_ID] in FIRST_RECORDS or line[RECORD_ID] in CONTINUATIONS)
    )


@dataclass
class ParsedFile:
    tables: list[pa.Table] = field(default_factory=list)
    codes: int = 0
    records: int = 0  # lines read as records (first and continuation)
    problems: list[str] = field(default_factory=list)


def read_code_file(member: BulkMember, release: str, year: int) -> ParsedFile:
    """Every code of a release, its continuation records joined; lines that are not
    records are skipped and listed (the disclaimer lines before the first record, which
    CMS puts at the top of the file, are skipped silently)."""
    parsed = ParsedFile()
    try:
        parsed.tables = list(batches(_code_rows(member, release, year, parsed), CODES))
    except (OSError, EOFError) as broken:
        raise MalformedInput(SOURCE, member.uri, f"cannot read: {broken}") from None
    if parsed.codes == 0:
        raise MalformedInput(SOURCE, member.uri, "no HCPCS records in it")
    return parsed


def _code_rows(
    member: BulkMember, release: str, year: int, parsed: ParsedFile
) -> Iterator[dict[str, Any]]:
    """The landing row of every code of the file, counted in `parsed`."""
    with member.open() as stream:
        for record in _codes(stream, parsed):
            parsed.codes += 1
            yield {
                "hcpcs_code": record["hcpcs_code"],
                "release": release,
                "release_year": year,
                "record": orjson.dumps(record).decode(),
                "source_uri": member.uri,
                "deleted": False,
            }


def _codes(stream: BinaryIO, parsed: ParsedFile) -> Iterator[dict[str, Any]]:
    """Each code's joined record, in file order (a code's records are consecutive)."""
    current: dict[str, Any] | None = None
    parts: list[tuple[int, str]] = []
    for number, raw in enumerate(stream, start=1):
        line = raw.decode(ENCODING, errors="replace").rstrip("\r\n")
        if not line.strip():
            continue
        code = line[CODE].strip()
        sequence = line[SEQUENCE]
        record_id = line[RECORD_ID]
        if not _is_record(line):
            if parsed.records:  # the disclaimer at the top is not a record: no reject
                parsed.problems.append(f"line {number}: not an HCPCS record: {line[:100]!r}")
            continue
        parsed.records += 1
        if record_id in FIRST_RECORDS:
            if current is not None:
                yield _joined(current, parts)
            current = _first_record(line, code, record_id)
            parts = [(int(sequence), line[LONG_DESCRIPTION])]
        elif current is None or current["hcpcs_code"] != code:
            parsed.problems.append(
                f"line {number}: continuation of {code} without its first record (skipped)"
            )
        else:
            parts.append((int(sequence), line[LONG_DESCRIPTION]))
    if current is not None:
        yield _joined(current, parts)


def _first_record(line: str, code: str, record_id: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "hcpcs_code": code,
        "kind": FIRST_RECORDS[record_id],
        "record_identification_code": record_id,
    }
    padded = line.ljust(320)
    for name, where in TEXT_FIELDS.items():
        record[name] = padded[where].strip()
    for name, places in LIST_FIELDS.items():
        record[name] = [value for value in (padded[where].strip() for where in places) if value]
    for name, where in DATE_FIELDS.items():
        record[name] = _date(padded[where])
    return record


def _joined(record: dict[str, Any], parts: list[tuple[int, str]]) -> dict[str, Any]:
    """The record with its long description joined from its records in sequence order."""
    texts = [text.strip() for _, text in sorted(parts, key=lambda part: part[0])]
    record["long_description"] = " ".join(text for text in texts if text)
    record["description_records"] = len(parts)
    return record


def _date(text: str) -> str | None:
    """A YYYYMMDD field as an ISO date (None when empty or not a date)."""
    text = text.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
    except ValueError:
        return None
