"""Reading CMS's ICD-10-CM release files: the fixed-width order file and the tabular XML.

Both are read as streams: the order file line by line, the tabular XML with lxml's
`iterparse` one chapter at a time (each chapter is released once read). A release file
becomes one landing row per code, collected in Arrow batches (`batches`), so a file is
landed whole or, when it cannot be read, not at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson
import pyarrow as pa
from lxml import etree

from extract.bulk import BulkMember, peek, xml_root
from extract.errors import MalformedInput
from extract.icd10cm import settings
from extract.icd10cm.settings import SOURCE
from extract.landing import batches
from extract.raw import RawTable
from extract.xmlsafety import refuse_entities

ORDER = "order"
TABULAR = "tabular"
TABULAR_ROOT = "ICD10CM.tabular"
PEEK_BYTES = 16 * 1024
YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
# Where the notes of a `diag` (and its chapter and section) are kept, by element name.
NOTE_KINDS = {
    "inclusionTerm": "inclusion_terms",
    "includes": "includes",
    "excludes1": "excludes1",
    "excludes2": "excludes2",
    "codeFirst": "code_first",
    "useAdditionalCode": "use_additional_code",
    "codeAlso": "code_also",
    "notes": "notes",
    "sevenChrNote": "seven_character_note",
}


def _codes_table(name: str) -> RawTable:
    """A raw table of one release file's codes; dbt reads one release at a time."""
    return RawTable(
        name,
        (
            pa.field("code", pa.string(), nullable=False),
            pa.field("release_year", pa.int16(), nullable=False),
        ),
        indexes=(("release_year", "code"),),
        record_paths=(("code", "code"),),
    )


# release file kind -> its raw table
TABLES = {ORDER: _codes_table("order_codes"), TABULAR: _codes_table("tabular_codes")}


def file_kind(member: BulkMember) -> str | None:
    """`order` or `tabular` for the two release files, by their content, None for any
    other file: CMS has named them in several ways (`icd10cm_order_2021.txt`,
    `icd10cm-order-Jan-2021.txt`, `icd10cm_tabular_2025.xml`), but the order file keeps
    its fixed-width layout and the tabular XML its root element (`ICD10CM.tabular`). The
    index, drug and neoplasm XML have other roots; the code lists (no order number) and
    the addenda (a change word before each entry) another layout."""
    head = peek(member, PEEK_BYTES)
    root = xml_root(head)
    if root is not None:
        return TABULAR if root.tag == TABULAR_ROOT else None
    text = head.decode("utf-8", errors="replace")
    lines = text.splitlines()[:-1] if len(head) >= PEEK_BYTES else text.splitlines()
    lines = [line for line in lines if line.strip()]
    entries = sum(1 for line in lines if _is_order_entry(line))
    return ORDER if entries and entries >= min(3, len(lines)) else None


def _is_order_entry(line: str) -> bool:
    """A line laid out as an order-file entry: a zero-filled order number, a code, the
    billable flag 0 or 1, each field in its place (the code may have any shape)."""
    start, end = settings.ORDER_CODE
    flag = slice(*settings.ORDER_BILLABLE)
    return (
        len(line) > settings.ORDER_SHORT[0]
        and line[slice(*settings.ORDER_NUMBER)].isdigit()
        and line[settings.ORDER_NUMBER[1] : start].isspace()
        and bool(line[start:end].strip())
        and line[end : flag.start].isspace()
        and line[flag] in ("0", "1")
    )


def release_year(member: BulkMember, kind: str) -> int | None:
    """The fiscal year of a release file: the tabular XML's own `<version>`, else the year
    in the file's name, else in the archive's or folder's name."""
    if kind == TABULAR:
        version = _xml_version(member)
        if version:
            return version
    for text in (member.name.rsplit("/", 1)[-1], member.uri):
        found = YEAR.findall(text)
        if found:
            return int(found[-1])
    return None


def _xml_version(member: BulkMember) -> int | None:
    try:
        with member.open() as stream:
            for _, element in etree.iterparse(stream, events=("end",), tag="version"):
                found = YEAR.search(element.text or "")
                return int(found.group(1)) if found else None
    except (etree.XMLSyntaxError, OSError, EOFError):
        return None  # read properly (and rejected) when the file is landed
    return None


def dotted(code: str) -> str:
    """`S72001A` -> `S72.001A` (a category, three characters, has no dot)."""
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


@dataclass
class ParsedFile:
    tables: list[pa.Table] = field(default_factory=list)
    rows: int = 0
    problems: list[str] = field(default_factory=list)  # records skipped, with where


def _row(code: str, year: int, record: dict[str, Any], uri: str) -> dict[str, Any]:
    return {
        "code": code,
        "release_year": year,
        "record": orjson.dumps(record).decode(),
        "source_uri": uri,
        "deleted": False,
    }


def _collect(rows: Iterator[dict[str, Any]], parsed: ParsedFile) -> ParsedFile:
    parsed.tables = list(batches(rows, TABLES[ORDER]))
    parsed.rows = sum(table.num_rows for table in parsed.tables)
    return parsed


# -- the order file ---------------------------------------------------------------------


def read_order_file(member: BulkMember, year: int) -> ParsedFile:
    """Every entry of an order file; a line that is not one is skipped and listed.

    Layout (CMS): order number (5, zero-filled), blank, code (7, no dot, left-justified),
    blank, 0/1 (1: valid for submission, i.e. billable), blank, short description (60),
    blank, long description (to the end of the line).
    """
    parsed = ParsedFile()
    try:
        with member.open() as stream:
            _collect(_order_rows(stream, member.uri, year, parsed), parsed)
    except (OSError, EOFError) as broken:
        raise MalformedInput(SOURCE, member.uri, f"cannot read: {broken}") from None
    if parsed.rows == 0:
        raise MalformedInput(SOURCE, member.uri, "no order-file entries in it")
    return parsed


def _order_rows(
    stream: BinaryIO, uri: str, year: int, parsed: ParsedFile
) -> Iterator[dict[str, Any]]:
    start, end = settings.ORDER_CODE
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as bad:
            parsed.problems.append(f"line {number}: not valid UTF-8 (byte {bad.start})")
            continue
        if not line.strip():
            continue
        order_number = line[slice(*settings.ORDER_NUMBER)]
        code = line[start:end].strip()
        flag = line[slice(*settings.ORDER_BILLABLE)]
        # The code lands as CMS wrote it, whatever its shape (issue 16: a code of a new
        # shape is counted in ops.icd10cm_data_quality, never dropped).
        if not (order_number.isdigit() and code and flag in ("0", "1")):
            parsed.problems.append(f"line {number}: not an order-file entry: {line[:120]!r}")
            continue
        record = {
            "order_number": int(order_number),
            "code": code,
            "is_billable": flag == "1",
            "short_description": line[slice(*settings.ORDER_SHORT)].strip(),
            "long_description": line[settings.ORDER_LONG_FROM :].strip(),
        }
        yield _row(code, year, record, uri)


# -- the tabular XML --------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """Where a `diag` sits: its chapter and section, parent, and the 7th characters that
    the nearest `sevenChrDef` above it (or its own) defines."""

    chapter: str
    chapter_description: str
    section: str
    section_description: str
    parent: str | None
    path: tuple[str, ...]  # dotted codes from the category down to the parent
    seven_characters: tuple[tuple[str, str], ...] = ()


def read_tabular_file(member: BulkMember, year: int) -> ParsedFile:
    """Every code of a tabular XML, 7th-character extensions expanded; `MalformedInput`
    when the XML cannot be parsed (nothing of the file lands then)."""
    parsed = ParsedFile()
    try:
        with member.open() as stream:
            _collect(_tabular_rows(stream, member.uri, year, parsed), parsed)
    except etree.XMLSyntaxError as bad:
        line = f"line {bad.lineno}, column {bad.offset}" if bad.lineno else "a line"
        raise MalformedInput(
            SOURCE, member.uri, f"not well-formed XML at {line}: {bad.msg}"
        ) from None
    except (OSError, EOFError) as broken:
        raise MalformedInput(SOURCE, member.uri, f"cannot read: {broken}") from None
    if parsed.rows == 0:
        raise MalformedInput(SOURCE, member.uri, "no <chapter> with codes in it")
    return parsed


def _tabular_rows(
    stream: BinaryIO, uri: str, year: int, parsed: ParsedFile
) -> Iterator[dict[str, Any]]:
    chapters = etree.iterparse(
        stream, events=("end",), tag="chapter", resolve_entities=False, no_network=True
    )
    for index, (_, chapter) in enumerate(chapters):
        if index == 0:
            refuse_entities(chapter, source=SOURCE, where=uri)
        number = _text(chapter, "name")
        description = _text(chapter, "desc")
        for section in chapter.iterfind("section"):
            context = Context(
                chapter=number,
                chapter_description=description,
                section=section.get("id") or "",
                section_description=_text(section, "desc"),
                parent=None,
                path=(),
            )
            for diag in section.iterfind("diag"):
                yield from _diag_rows(diag, context, uri, year, parsed)
        chapter.clear()
        while chapter.getprevious() is not None:  # what iterparse kept of earlier chapters
            del chapter.getparent()[0]


def _diag_rows(
    diag: etree._Element, context: Context, uri: str, year: int, parsed: ParsedFile
) -> Iterator[dict[str, Any]]:
    name = _text(diag, "name")
    code = name.replace(".", "")
    if not code:  # no key to land it by; its child codes still land, under its parent
        parsed.problems.append(f"line {diag.sourceline}: <diag> without a <name>")
        for child in diag.findall("diag"):
            yield from _diag_rows(child, context, uri, year, parsed)
        return
    # Any other name lands as CMS wrote it (counted in ops.icd10cm_data_quality when its
    # shape is not the usual one), never dropped.
    definition = diag.find("sevenChrDef")
    seven = context.seven_characters
    if definition is not None:
        seven = tuple(
            (extension.get("char", ""), (extension.text or "").strip())
            for extension in definition.iterfind("extension")
        )
    children = diag.findall("diag")
    expanded = bool(seven) and not children
    description = _text(diag, "desc")
    record = {
        "code": code,
        "dotted_code": name,
        "description": description,
        "chapter": context.chapter,
        "chapter_description": context.chapter_description,
        "section": context.section,
        "section_description": context.section_description,
        "parent": context.parent,
        "path": [*context.path, name],
        "is_billable": not children and not expanded,
        "notes": _notes(diag),
        "seven_character": None,
    }
    if definition is not None:
        record["seven_character_definition"] = dict(seven)
    yield _row(code, year, record, uri)
    inner = Context(
        chapter=context.chapter,
        chapter_description=context.chapter_description,
        section=context.section,
        section_description=context.section_description,
        parent=code,
        path=(*context.path, name),
        seven_characters=seven,
    )
    for child in children:
        yield from _diag_rows(child, inner, uri, year, parsed)
    if expanded:
        base = code.ljust(6, settings.PLACEHOLDER)
        for character, meaning in seven:
            extended = base + character
            yield _row(
                extended,
                year,
                {
                    "code": extended,
                    "dotted_code": dotted(extended),
                    "description": f"{description}, {meaning}",
                    "chapter": context.chapter,
                    "chapter_description": context.chapter_description,
                    "section": context.section,
                    "section_description": context.section_description,
                    "parent": code,
                    "path": [*context.path, name, dotted(extended)],
                    "is_billable": True,
                    "notes": {},
                    "seven_character": {"character": character, "description": meaning},
                },
                uri,
            )


def _text(element: etree._Element, child: str) -> str:
    return (element.findtext(child) or "").strip()


def _notes(diag: etree._Element) -> dict[str, list[str]]:
    """The instructional notes of a `diag`, by kind (only the kinds it has)."""
    notes: dict[str, list[str]] = {}
    for element in diag:
        kind = NOTE_KINDS.get(element.tag) if isinstance(element.tag, str) else None
        if kind:
            texts = [(note.text or "").strip() for note in element.iterfind("note")]
            notes.setdefault(kind, []).extend(text for text in texts if text)
    return notes
