"""DailyMed's web-service list answers (paged `data` arrays of SPLs): what each item
names and where the next page is. DailyMed writes absent values as the string "null" and
numbers sometimes as strings; both are read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from extract.dailymed.settings import SOURCE
from extract.dailymed.spl import int_of
from extract.errors import MalformedInput


@dataclass(frozen=True)
class ListedSpl:
    set_id: str
    version: int | None
    published_date: date | None
    title: str | None


def published_date_of(text: Any) -> date | None:
    """DailyMed's published date ("May 12, 2021", "July 29, 2011") as a date."""
    if not isinstance(text, str):
        return None
    for pattern in ("%b %d, %Y", "%B %d, %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def list_page(document: Any, *, where: str) -> tuple[list[dict[str, Any]], int | None]:
    """The `data` items of a paged DailyMed JSON answer and the next page (None on the
    last). DailyMed writes absent values as the string "null" and numbers sometimes as
    strings; both are read."""
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise MalformedInput(SOURCE, where, "not a DailyMed list answer (no `data` array)")
    metadata = document.get("metadata") or {}
    next_page = int_of(str(metadata.get("next_page"))) if metadata.get("next_page") else None
    current = int_of(str(metadata.get("current_page") or ""))
    total = int_of(str(metadata.get("total_pages") or ""))
    if next_page is None and current and total and current < total:
        next_page = current + 1
    return [item for item in document["data"] if isinstance(item, dict)], next_page


def listed_total(document: Any) -> int | None:
    """DailyMed's count of the items a paged list holds (`metadata.total_elements`)."""
    metadata = document.get("metadata") if isinstance(document, dict) else None
    if not isinstance(metadata, dict) or metadata.get("total_elements") in (None, "null"):
        return None
    return int_of(str(metadata["total_elements"]))


def listed_spl(item: dict[str, Any], *, where: str) -> ListedSpl:
    set_id = item.get("setid")
    if not isinstance(set_id, str) or not set_id.strip():
        raise MalformedInput(SOURCE, where, f"an SPL list item without a setid: {item}")
    return ListedSpl(
        set_id=set_id.strip(),
        version=int_of(str(item.get("spl_version") or "")),
        published_date=published_date_of(item.get("published_date")),
        title=item.get("title"),
    )
