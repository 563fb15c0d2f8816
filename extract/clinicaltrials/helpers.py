"""Parsing particular to ClinicalTrials.gov API v2 documents."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date
from typing import Any, BinaryIO

import ijson
import orjson
import pyarrow as pa

from extract.clinicaltrials.settings import SOURCE
from extract.errors import MalformedInput
from extract.jsonsafety import DepthChecked
from extract.raw import RawTable

# `raw_clinicaltrials.studies`; dbt's incremental models and the re-sync look studies up
# by id.
STUDIES = RawTable(
    "studies",
    (
        pa.field("nct_id", pa.string(), nullable=False),
        pa.field("last_update_post_date", pa.date32()),
    ),
    indexes=(("nct_id", "_dlt_load_id"),),
    record_paths=(
        ("nct_id", "protocolSection.identificationModule.nctId"),
        ("last_update_post_date", "protocolSection.statusModule.lastUpdatePostDateStruct.date"),
    ),
)


def nct_id_of(study: dict[str, Any]) -> str | None:
    return study.get("protocolSection", {}).get("identificationModule", {}).get("nctId")


def last_update_of(study: dict[str, Any]) -> date | None:
    """`lastUpdatePostDateStruct.date` (absent when a request asked for fewer fields)."""
    struct = (
        study.get("protocolSection", {}).get("statusModule", {}).get("lastUpdatePostDateStruct")
    )
    value = struct.get("date") if struct else None
    return date.fromisoformat(value) if value else None


def study_row(
    study: dict[str, Any], *, source_uri: str, where: str, text: str | None = None
) -> dict[str, Any]:
    """A landing row for one study document (`text`: the document as published, if the
    study is a document of its own, saves serialising it again)."""
    nct_id = nct_id_of(study)
    if not nct_id:
        raise MalformedInput(
            SOURCE, where, "a study without protocolSection.identificationModule.nctId"
        )
    try:
        updated = last_update_of(study)
    except ValueError as bad:
        raise MalformedInput(
            SOURCE, f"{where} {nct_id}", f"bad lastUpdatePostDate: {bad}"
        ) from None
    return {
        "nct_id": nct_id,
        "last_update_post_date": updated,
        "record": text if text is not None else orjson.dumps(study).decode(),
        "source_uri": source_uri,
        "deleted": False,
    }


def deletion_row(nct_id: str, *, source_uri: str) -> dict[str, Any]:
    """A deletion notice: the API no longer returns this study."""
    return {
        "nct_id": nct_id,
        "last_update_post_date": None,
        "record": None,
        "source_uri": source_uri,
        "deleted": True,
    }


def is_study_document(document: Any) -> bool:
    """Whether a JSON document is ClinicalTrials.gov's: one study or a page of studies."""
    return isinstance(document, dict) and (
        isinstance(document.get("studies"), list) or "protocolSection" in document
    )


def studies_in_document(document: Any, *, where: str) -> Iterator[dict[str, Any]]:
    """The studies of a JSON document: one study, or an API page (`{"studies": [...]}`)."""
    if isinstance(document, dict) and isinstance(document.get("studies"), list):
        yield from document["studies"]
    elif isinstance(document, dict) and "protocolSection" in document:
        yield document
    else:
        raise MalformedInput(SOURCE, where, "neither a study nor a page of studies")


def decode_utf8(content: bytes, *, where: str) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as bad:
        raise MalformedInput(
            SOURCE, where, f"not valid UTF-8 at byte {bad.start}: {bad.reason}"
        ) from None


def parse_json(content: bytes | str, *, where: str) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as bad:
        raise MalformedInput(SOURCE, where, f"not valid JSON: {bad}") from None


def api_date_filter(start: date, end: date | None) -> str:
    """The `filter.advanced` expression for studies last updated in [start, end]."""
    upper = end.isoformat() if end else "MAX"
    return f"AREA[LastUpdatePostDate]RANGE[{start.isoformat()},{upper}]"


class _Utf8Checked:
    """A binary stream that raises `MalformedInput` at the first byte that is not UTF-8
    (naming its offset in the document, as `decode_utf8` does)."""

    def __init__(self, stream: BinaryIO, *, where: str) -> None:
        self.stream = stream
        self.where = where
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.offset = 0  # bytes read so far

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        pending = len(self.decoder.getstate()[0])
        try:
            self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as bad:
            at = self.offset - pending + bad.start
            raise MalformedInput(
                SOURCE, self.where, f"not valid UTF-8 at byte {at}: {bad.reason}"
            ) from None
        self.offset += len(chunk)
        return chunk


def _page_items(stream: BinaryIO, *, where: str) -> Iterator[dict[str, Any]]:
    checked = _Utf8Checked(DepthChecked(stream, source=SOURCE, where=where), where=where)
    count = 0
    try:
        for study in ijson.items(checked, "studies.item", use_float=True):
            count += 1
            if not isinstance(study, dict):
                raise MalformedInput(SOURCE, f"{where} study {count}", "not a JSON object")
            yield study
        checked.read(0)  # the decoder's last word: a document cut inside a character
    except (ijson.JSONError, ijson.IncompleteJSONError) as bad:
        raise MalformedInput(
            SOURCE,
            where,
            f"not valid JSON after study {count}, within the first {checked.offset:,} bytes: "
            + " ".join(str(bad).split()),
        ) from None
    if count == 0:
        raise MalformedInput(
            SOURCE, where, "a large document that is not a page of studies (no studies[])"
        )


def stream_page(
    open_stream: Callable[[], AbstractContextManager[BinaryIO]], *, where: str
) -> Iterator[dict[str, Any]]:
    """The studies of a page document (`{"studies": [...]}`), one at a time, checked as
    UTF-8 JSON: `MalformedInput` naming the byte or study where it broke."""
    with open_stream() as stream:
        yield from _page_items(stream, where=where)
