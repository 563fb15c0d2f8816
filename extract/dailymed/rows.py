"""DailyMed's landing rows: a parsed SPL's label and class-indexing rows, and the rows of
its web services' class and history answers."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson

from extract.dailymed.listing import published_date_of
from extract.dailymed.settings import SOURCE
from extract.dailymed.spl import PHARMACOLOGIC_CLASS_INDEXING, int_of, non_empty
from extract.errors import MalformedInput


def label_row(
    record: dict[str, Any], *, source_uri: str, published_date: date | None = None
) -> dict[str, Any]:
    effective = record.get("effective_time")
    if published_date:
        record = {**record, "published_date": published_date.isoformat()}
    return {
        "set_id": record["set_id"],
        "version": record["version"],
        "effective_time": date.fromisoformat(effective) if effective else None,
        "published_date": published_date,
        "record": orjson.dumps(record).decode(),
        "source_uri": source_uri,
        "deleted": False,
    }


def pharmacologic_class_rows(record: dict[str, Any], *, source_uri: str) -> list[dict[str, Any]]:
    """One row per indexed substance of a pharmacologic-class indexing SPL."""
    effective = record.get("effective_time")
    rows = []
    for substance in record.get("indexed_substances", []):
        document = {
            key: record.get(key)
            for key in ("set_id", "spl_id", "version", "effective_time", "title", "labeler")
        }
        rows.append(
            {
                "set_id": record["set_id"],
                "version": record["version"],
                "effective_time": date.fromisoformat(effective) if effective else None,
                "unii": substance.get("unii"),
                "record": orjson.dumps(non_empty({**document, "substance": substance})).decode(),
                "source_uri": source_uri,
                "deleted": False,
            }
        )
    return rows


def is_pharmacologic_class_indexing(record: dict[str, Any]) -> bool:
    return record.get("document_type", {}).get("code") == PHARMACOLOGIC_CLASS_INDEXING


def drug_class_row(item: dict[str, Any], *, source_uri: str) -> dict[str, Any] | None:
    code = item.get("code")
    if not code:
        return None
    return {
        "class_code": str(code),
        "class_type": item.get("type"),
        "record": orjson.dumps(item).decode(),
        "source_uri": source_uri,
        "deleted": False,
    }


def history_rows(
    document: Any, *, set_id: str, source_uri: str, where: str
) -> list[dict[str, Any]]:
    """One row per version of a `/spls/{setid}/history.json` answer."""
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("history"), list):
        raise MalformedInput(SOURCE, where, "not a DailyMed history answer (no data.history)")
    spl = data.get("spl") or {}
    rows = []
    for entry in data["history"]:
        version = int_of(str(entry.get("spl_version") or "")) if isinstance(entry, dict) else None
        if version is None:
            continue
        rows.append(
            {
                "set_id": spl.get("setid") or set_id,
                "spl_version": version,
                "published_date": published_date_of(entry.get("published_date")),
                "record": orjson.dumps({"spl": spl, **entry}).decode(),
                "source_uri": source_uri,
                "deleted": False,
            }
        )
    return rows
