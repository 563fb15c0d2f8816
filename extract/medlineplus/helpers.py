"""Parsing particular to MedlinePlus: the health topics XML (`<health-topics>` holding one
`<health-topic>` per topic and language) into landing rows, and the file names and links
that carry its date.

A file is read as it streams (`lxml.etree.iterparse`, one `health-topic` at a time, each
dropped once it is a row), but it is landed whole or not at all: each file is a complete
snapshot of the topics, so a file cut short would otherwise remove the topics it lost
from the marts. The caller collects the rows and yields them only when the file has been
read to its end (and holds as many topics as its `total` attribute says).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO

import orjson
import pyarrow as pa
from lxml import etree, html
from lxml.etree import _Element as Element

from extract.discovery import links
from extract.errors import MalformedInput, invalid_xml
from extract.medlineplus.settings import FILE_NAME, SOURCE
from extract.raw import RawTable
from extract.streams import ItemStream
from extract.xmlsafety import refuse_entities

TOPICS = "health-topics"
TOPIC = "health-topic"
# `raw_medlineplus.health_topics`; dbt finds the newest complete file through its index.
TOPICS_TABLE = RawTable(
    "health_topics",
    (
        pa.field("topic_id", pa.string(), nullable=False),
        pa.field("language", pa.string(), nullable=False),
        pa.field("file_date", pa.date32(), nullable=False),
    ),
    indexes=(("file_date", "_dlt_load_id"),),
    record_paths=(("topic_id", "id"), ("language", "language")),
)
FILE_DATE = re.compile(FILE_NAME)
SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class TopicsFile:
    """What a health topics document says about itself (its root element)."""

    total: int | None  # `total`: how many topics it holds
    generated: str | None  # `date-generated` as published ("07/21/2012 02:32:56")


def file_date_of(name: str) -> date | None:
    """The date in a health topics file name (`mplus_topics_2012-07-21.xml`), if any."""
    found = FILE_DATE.search(name)
    if not found:
        return None
    try:
        return date.fromisoformat(found.group(1))
    except ValueError:
        return None


def generated_date(value: str | None) -> date | None:
    """The date of a root's `date-generated` ("07/21/2012 02:32:56")."""
    try:
        return datetime.strptime((value or "").split()[0], "%m/%d/%Y").date()
    except (ValueError, IndexError):
        return None


def current_file_links(page: bytes, base_url: str) -> list[str]:
    """The health topics files a MedlinePlus XML page links, newest first, the zipped
    copy of a date before the plain one (links read by `extract.discovery.links`)."""
    dated = {}
    for url in links(page, base_url):
        name = url.rsplit("/", 1)[-1]
        found = file_date_of(name)
        if found and FILE_DATE.fullmatch(name):
            dated[url] = found
    return sorted(dated, key=lambda url: (dated[url], url.endswith(".zip")), reverse=True)


# -- reading a document topic by topic --------------------------------------------------


def iter_topics(stream: BinaryIO, *, where: str) -> Iterator[tuple[TopicsFile, Element]]:
    """Each `health-topic` of a `health-topics` document with what the root says, parsed
    whole and dropped once the caller moves on. A document that is not XML, stops halfway
    or is not a health topics file raises `MalformedInput` naming `where` and the line."""
    counting = ItemStream(stream, source=SOURCE, where=where)
    items = etree.iterparse(
        counting,
        events=("start", "end"),
        resolve_entities=False,  # never read the DTD the DOCTYPE names
        no_network=True,
        load_dtd=False,
    )
    about: TopicsFile | None = None
    depth = 0
    try:
        for event, element in items:
            if event == "start":
                depth += 1
                if depth == 1:
                    refuse_entities(element, source=SOURCE, where=where)
                    if element.tag != TOPICS:
                        raise MalformedInput(
                            SOURCE, where, f"not a {TOPICS} document: its root is <{element.tag}>"
                        )
                    total = element.get("total")
                    about = TopicsFile(
                        total=int(total) if total and total.isdigit() else None,
                        generated=element.get("date-generated"),
                    )
                continue
            depth -= 1
            if depth == 1 and element.tag == TOPIC:
                yield about, element
                counting.item_done()
                element.clear(keep_tail=False)
                parent = element.getparent()
                while element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as bad:
        raise invalid_xml(SOURCE, where, bad) from None
    except (EOFError, OSError, zlib.error) as broken:
        raise MalformedInput(SOURCE, where, f"the file cannot be read: {broken}") from None


# -- one topic into a landing row ----------------------------------------------------------


def topic_row(topic: Element, *, file_date: date, source_uri: str) -> dict[str, Any]:
    """The landing row of one `health-topic` (`MalformedInput` without an id or language)."""
    record = topic_record(topic)
    if not record.get("id") or not record.get("language"):
        raise MalformedInput(
            SOURCE,
            source_uri,
            f"a health-topic at line {topic.sourceline} without an id or language "
            f"(title {record.get('title')!r})",
        )
    return {
        "topic_id": record["id"],
        "language": record["language"],
        "file_date": file_date,
        "record": orjson.dumps(record).decode(),
        "source_uri": source_uri,
        "deleted": False,
    }


def topic_record(topic: Element) -> dict[str, Any]:
    """A `health-topic` as a JSON document: its attributes, every child element the health
    topics DTD defines, and the summary both as published (markup) and as plain text.
    Absent elements are left out."""
    summary_markup = _raw(topic.find("full-summary"))
    record = {
        "id": topic.get("id"),
        "title": _clean(topic.get("title")),
        "url": topic.get("url"),
        "language": topic.get("language"),
        "date_created": topic.get("date-created"),
        "meta_desc": _clean(topic.get("meta-desc")),
        "also_called": [_text(item) for item in topic.iterfind("also-called")],
        "full_summary": summary_markup,
        "summary_text": summary_text(summary_markup),
        "groups": [_linked(item) for item in topic.iterfind("group")],
        "language_mapped_topics": [
            _linked(item) | {"language": item.get("language")}
            for item in topic.iterfind("language-mapped-topic")
        ],
        "mesh_headings": [_mesh_heading(item) for item in topic.iterfind("mesh-heading")],
        "other_languages": [
            {
                "language": _text(item),
                "vernacular_name": item.get("vernacular-name"),
                "url": item.get("url"),
            }
            for item in topic.iterfind("other-language")
        ],
        "primary_institute": next(
            (_linked(item) for item in topic.iterfind("primary-institute")), None
        ),
        "related_topics": [_linked(item) for item in topic.iterfind("related-topic")],
        "see_references": [_text(item) for item in topic.iterfind("see-reference")],
        "sites": [_site(item) for item in topic.iterfind("site")],
    }
    return {key: value for key, value in record.items() if value not in (None, "", [])}


def summary_text(markup: str | None) -> str | None:
    """The summary's text without its HTML markup, whitespace collapsed."""
    if not markup or not markup.strip():
        return None
    fragment = html.fragment_fromstring(markup, create_parent="div")
    for block in fragment.iter("p", "li", "br", "h1", "h2", "h3", "h4", "div"):
        block.tail = " " + (block.tail or "")
    return _clean(fragment.text_content())


def _mesh_heading(heading: Element) -> dict[str, Any]:
    descriptor = heading.find("descriptor")
    return {
        "descriptor_id": descriptor.get("id") if descriptor is not None else None,
        "descriptor": _text(descriptor),
        "qualifiers": [
            {"id": item.get("id"), "name": _text(item)} for item in heading.iterfind("qualifier")
        ],
    }


def _site(site: Element) -> dict[str, Any]:
    found = {
        "title": _clean(site.get("title")),
        "url": site.get("url"),
        "language_mapped_url": site.get("language-mapped-url"),
        "information_categories": [_text(item) for item in site.iterfind("information-category")],
        "organizations": [_text(item) for item in site.iterfind("organization")],
        "standard_descriptions": [_text(item) for item in site.iterfind("standard-description")],
    }
    return {key: value for key, value in found.items() if value not in (None, [])}


def _linked(element: Element) -> dict[str, Any]:
    return {"id": element.get("id"), "name": _text(element), "url": element.get("url")}


def _raw(element: Element | None) -> str | None:
    return element.text.strip() if element is not None and element.text else None


def _text(element: Element | None) -> str | None:
    return _clean("".join(element.itertext())) if element is not None else None


def _clean(value: str | None) -> str | None:
    return SPACE.sub(" ", value).strip() or None if value else None
