"""Parsing particular to FoodData Central: foods from API answers (search pages, food
details) and from the bulk JSON downloads, into landing rows.

A download (`FoodData_Central_branded_food_json_YYYY-MM-DD.zip`) holds one JSON document
`{"BrandedFoods": [...]}` (or `FoundationFoods`, `SRLegacyFoods`, `SurveyFoods`, ...) of
up to several GB: it is streamed with ijson (its C backend), one food at a time, never
loaded whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, BinaryIO

import ijson
import orjson
import pyarrow as pa

from extract.errors import MalformedInput
from extract.fooddata.settings import SOURCE, WHOLE_DOCUMENT_BYTES
from extract.jsonsafety import DepthChecked
from extract.raw import RawTable

# `raw_fooddata.foods`; dbt's models look foods up by id.
FOODS = RawTable(
    "foods",
    (
        pa.field("fdc_id", pa.int64(), nullable=False),
        pa.field("published_date", pa.date32()),
        pa.field("data_type", pa.string()),
        pa.field("record_format", pa.string(), nullable=False),
    ),
    indexes=(("fdc_id", "_dlt_load_id"),),
    record_paths=(
        ("fdc_id", "fdcId"),
        ("published_date", "publishedDate"),
        ("published_date", "publicationDate"),
        ("data_type", "dataType"),
    ),
)
# `{"BrandedFoods": [` at the start of a download: the key names the array of foods.
DOWNLOAD_START = re.compile(rb'^\s*\{\s*"([A-Za-z]+)"\s*:\s*\[')
PEEK_BYTES = 4096


def published_date(food: dict[str, Any]) -> date | None:
    """`publishedDate` (search) or `publicationDate` (details, downloads) as a date; FDC
    writes it `2021-10-28` or `4/1/2019`."""
    value = food.get("publishedDate") or food.get("publicationDate")
    if not isinstance(value, str):
        return None
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    return None


def record_format(food: dict[str, Any], default: str) -> str:
    """How a food record is shaped, from its nutrients: `full` (nested `nutrient`
    objects: details and downloads), `search` (flat `nutrientId`/`value`), `abridged`
    (flat `number`/`amount`); `default` when it lists no nutrients."""
    for nutrient in food.get("foodNutrients") or []:
        if isinstance(nutrient, dict):
            if isinstance(nutrient.get("nutrient"), dict):
                return "full"
            if "nutrientId" in nutrient:
                return "search"
            if "number" in nutrient:
                return "abridged"
    return default


def food_row(food: Any, *, source_uri: str, where: str, default_format: str) -> dict[str, Any]:
    """The landing row of one food (`MalformedInput` without an integer `fdcId`)."""
    fdc_id = food.get("fdcId") if isinstance(food, dict) else None
    if isinstance(fdc_id, str) and fdc_id.isdigit():
        fdc_id = int(fdc_id)
    if not isinstance(fdc_id, int) or isinstance(fdc_id, bool):
        raise MalformedInput(SOURCE, where, f"a food without an fdcId: {_shown(food)}")
    return {
        "fdc_id": fdc_id,
        "published_date": published_date(food),
        "data_type": food.get("dataType"),
        "record_format": record_format(food, default_format),
        "record": orjson.dumps(food).decode(),
        "source_uri": source_uri,
        "deleted": False,
    }


def _shown(food: Any) -> str:
    return orjson.dumps(food).decode()[:200]


def foods_in_page(page: Any, *, where: str) -> list[dict[str, Any]]:
    """The foods of a `/foods/search` answer."""
    if not isinstance(page, dict) or not isinstance(page.get("foods"), list):
        raise MalformedInput(SOURCE, where, "not a foods/search answer (no `foods` list)")
    return page["foods"]


class _CountingReader:
    """A stream that counts the bytes read through it (to say where a file broke)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.bytes_read += len(chunk)
        return chunk


def is_fooddata(head: bytes) -> bool:
    """Whether a file's first bytes are FoodData Central foods, whatever it is named: a
    download (its foods an array under a top-level key ending in `Foods`: `BrandedFoods`,
    `FoundationFoods`, `SRLegacyFoods`, `SurveyFoods`...), or a saved API answer (a search
    page's `foods`, a food, a list of foods: JSON naming an `fdcId` in the bytes given,
    `peek`'s 64 KiB: a food detail names it after its nutrients, 16 KiB in)."""
    head = head.lstrip(b"\xef\xbb\xbf").lstrip()
    found = DOWNLOAD_START.match(head)
    if found:
        return found.group(1).lower().endswith(b"foods")
    return head[:1] in (b"{", b"[") and b'"fdcId"' in head


def download_key(stream: BinaryIO) -> str | None:
    """The key of the foods array a download starts with (`BrandedFoods`), if it is one."""
    found = DOWNLOAD_START.match(stream.read(PEEK_BYTES).lstrip(b"\xef\xbb\xbf"))
    return found.group(1).decode() if found else None


def iter_download(stream: BinaryIO, key: str, *, where: str) -> Iterator[Any]:
    """The foods of a download whose array is `key`, one at a time. A document that
    breaks raises `MalformedInput` with the number of foods read and the byte."""
    counting = _CountingReader(DepthChecked(stream, source=SOURCE, where=where))
    read = 0
    try:
        for food in ijson.items(counting, f"{key}.item", use_float=True):
            read += 1
            yield food
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as bad:
        raise MalformedInput(
            SOURCE,
            where,
            f"not valid JSON after food {read} (about byte {counting.bytes_read:,}): {bad}",
        ) from None


def iter_document(content: bytes, *, where: str) -> Iterator[Any]:
    """The foods of a small JSON document that is not a download: a saved search page
    (`{"foods": [...]}`), one food detail, or a list of foods."""
    if len(content) > WHOLE_DOCUMENT_BYTES:
        raise MalformedInput(
            SOURCE, where, "neither a FoodData Central download nor a small API answer"
        )
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as bad:
        raise MalformedInput(SOURCE, where, f"not valid JSON: {bad}") from None
    if isinstance(document, dict) and isinstance(document.get("foods"), list):
        yield from document["foods"]
    elif isinstance(document, dict) and "fdcId" in document:
        yield document
    elif isinstance(document, list):
        yield from document
    else:
        raise MalformedInput(
            SOURCE, where, "not FoodData Central foods (a download, a search page or a food)"
        )
