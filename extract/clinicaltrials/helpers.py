"""Parsing particular to ClinicalTrials.gov API v2 documents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import orjson
import pyarrow as pa

from extract.clinicaltrials.settings import SOURCE
from extract.errors import MalformedInput
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
