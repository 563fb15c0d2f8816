"""MedlinePlus health topics: NLM's consumer health topics in English and Spanish.

NLM publishes every health topic in one XML file, `mplus_topics_YYYY-MM-DD.xml` (also
zipped as `mplus_topics_compressed_YYYY-MM-DD.zip`), regenerated every weekday and linked
from https://medlineplus.gov/xml.html. There is no API for the topic set.

One resource, `health_topics`, reads the current file (the XML page's link by default,
or with `bulk_location` a file, zip or folder of them, or the URL of one) and lands
`raw_medlineplus.health_topics`: one row per `health-topic`, key `topic_id` + `language`,
cursor `file_date` (the date in the file name, or the root's `date-generated` when the
name has none). `record` is the parsed topic: title, URL, dates, also-called names, the
summary as published (markup) and as plain text, groups, the topic in the other
language, MeSH headings, primary institute, related topics, see-references and sites.

Each file is a complete snapshot: it lands whole in one load or not at all (a file that
breaks, or holds fewer topics than its `total` says, is recorded in
`raw_medlineplus.rejects`), and dbt keeps the topics of the newest completely landed
file. A file no newer than the newest landed is not landed again (nor downloaded).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dlt
from dlt.sources import DltResource

from extract.bulk import BulkMember, iter_members, resolve_location
from extract.errors import MalformedInput
from extract.http import PublisherClient
from extract.landing import MORE_WINDOWS, RowBatcher, reject, to_table
from extract.medlineplus import settings
from extract.medlineplus.helpers import (
    TOPICS_TABLE,
    current_file_links,
    file_date_of,
    generated_date,
    iter_topics,
    topic_row,
)
from extract.spec import SearchExample, SourceSpec
from medmirror.settings import SAMPLES_DIR

log = logging.getLogger(__name__)

TABLE = TOPICS_TABLE.name


@dlt.source(name=settings.SOURCE)
def medlineplus(
    download_dir: str,
    xml_page_url: str = settings.XML_PAGE_URL,
    bulk_location: str | None = None,
) -> DltResource:
    """The current file linked from `xml_page_url`, or the files at `bulk_location`; a URL
    is downloaded into `download_dir`."""
    return health_topics(bulk_location or xml_page_url, download_dir=download_dir)


@dataclass(frozen=True)
class _TopicsFile:
    member: BulkMember
    named_date: date | None  # the date in its name (or its archive's), if any


# No `columns` here: it lands two tables, each item bound to its own by `to_table`.
@dlt.resource(name="health_topics", table_name=TABLE, write_disposition="append")
def health_topics(location: str, download_dir: str) -> Iterator[Any]:
    """The health topics files at `location` newer than the newest landed, oldest first,
    one file per window (and load).

    The cursor is the newest file date landed (`newest_file_date` in the resource state,
    committed with the file's rows): a file of that date or older is skipped, and a URL
    whose file name says it is not newer is not even downloaded.
    """
    state = dlt.current.resource_state()
    newest = (
        date.fromisoformat(state["newest_file_date"]) if state.get("newest_file_date") else None
    )
    path = _local_copy(location, Path(download_dir), newest)
    if path is None:
        state[MORE_WINDOWS] = False
        return
    passed = state.setdefault("passed_undated", [])  # undated files read and not newer
    pending = sorted(
        (
            found
            for found in _topics_files(path)
            if not _landed(found, newest) and found.member.uri not in passed
        ),
        key=lambda found: (found.named_date or date.max, found.member.uri),
    )
    if not pending:
        log.info("%s: nothing newer than %s at %s", settings.SOURCE, newest, location)
        state[MORE_WINDOWS] = False
        return
    # A zip member can be read only while its archive is iterated: find it again.
    found = pending[0]
    try:
        landed_date, rows = _read_file(found.member.uri, path)
    except MalformedInput as bad:
        yield reject(bad)
        # A bad file is not read again; the next file of the location is.
        if found.named_date:
            state["newest_file_date"] = max(found.named_date, newest or date.min).isoformat()
        else:
            passed.append(found.member.uri)
    else:
        if newest and landed_date <= newest:
            passed.append(found.member.uri)
            log.info(
                "%s: %s (%s) is not newer than %s",
                settings.SOURCE,
                found.member.uri,
                landed_date,
                newest,
            )
        else:
            batcher = RowBatcher(TOPICS_TABLE)
            for row in rows:
                table = batcher.add(row)
                if table is not None:
                    yield to_table(table, TOPICS_TABLE)
            table = batcher.flush()
            if table is not None:
                yield to_table(table, TOPICS_TABLE)
            log.info(
                "%s: %d topics of %s (%s)",
                settings.SOURCE,
                len(rows),
                found.member.uri,
                landed_date,
            )
            state["newest_file_date"] = landed_date.isoformat()
    state[MORE_WINDOWS] = len(pending) > 1


def _local_copy(location: str, download_dir: Path, newest: date | None) -> Path | None:
    """The local path of `location`: a folder or file as is; a file URL downloaded (unless
    its name says it is not newer than `newest`); the XML page's newest linked file."""
    if urlsplit(location).scheme not in ("http", "https"):
        return resolve_location(location, source=settings.SOURCE, download_dir=download_dir)
    url = location
    if not file_date_of(Path(urlsplit(location).path).name):
        client = PublisherClient(settings.SOURCE)
        page = client.get(location, what="the MedlinePlus XML files page")
        links = current_file_links(page.content, page.url or location)
        if not links:
            raise MalformedInput(
                settings.SOURCE, location, "the page links no mplus_topics_YYYY-MM-DD file"
            )
        url = links[0]
    named = file_date_of(Path(urlsplit(url).path).name)
    if newest and named and named <= newest:
        log.info("%s: %s is not newer than %s, not downloaded", settings.SOURCE, url, newest)
        return None
    return resolve_location(url, source=settings.SOURCE, download_dir=download_dir)


def _topics_files(path: Path) -> Iterator[_TopicsFile]:
    for member in iter_members(path, source=settings.SOURCE, suffixes=settings.BULK_SUFFIXES):
        named = file_date_of(member.name.rsplit("/", 1)[-1]) or file_date_of(member.path.name)
        yield _TopicsFile(member, named)


def _landed(found: _TopicsFile, newest: date | None) -> bool:
    return bool(newest and found.named_date and found.named_date <= newest)


def _read_file(uri: str, path: Path) -> tuple[date, list[dict[str, Any]]]:
    """Every topic row of the file `uri` at `path` (all or nothing) and its date."""
    for found in _topics_files(path):
        if found.member.uri == uri:
            return _read_member(found)
    raise MalformedInput(settings.SOURCE, uri, "gone while it was read")


def _read_member(found: _TopicsFile) -> tuple[date, list[dict[str, Any]]]:
    member = found.member
    if member.problem:
        raise MalformedInput(settings.SOURCE, member.uri, member.problem)
    rows: list[dict[str, Any]] = []
    about = None
    with member.open() as stream:
        for seen, topic in iter_topics(stream, where=member.uri):
            about = seen
            rows.append(topic_row(topic, file_date=date.min, source_uri=member.uri))
    landed_date = found.named_date or (generated_date(about.generated) if about else None)
    if landed_date is None:
        raise MalformedInput(
            settings.SOURCE,
            member.uri,
            "no date: neither its name (mplus_topics_YYYY-MM-DD) nor date-generated says one",
        )
    if not rows:
        raise MalformedInput(settings.SOURCE, member.uri, "holds no health-topic")
    if about and about.total is not None and about.total != len(rows):
        raise MalformedInput(
            settings.SOURCE,
            member.uri,
            f"holds {len(rows)} health-topic elements, but its total says {about.total}",
        )
    for row in rows:
        row["file_date"] = landed_date
    return landed_date, rows


SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=medlineplus,  # without a location: NLM's current health topics file
    raw_tables=(TOPICS_TABLE,),
    status_table=TOPICS_TABLE.name,
    cursor_column="file_date",
    marts=("health_topics",),
    samples=SAMPLES_DIR / "medlineplus",
    search=SearchExample(
        mart="health_topics", query="abdominal pain", shown=("topic_id", "title", "language")
    ),
)
