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
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dlt
from dlt.sources import DltResource

from extract.bulk import (
    BulkLedger,
    BulkMember,
    account_of,
    identity,
    peek,
    resolve_location,
    xml_root,
)
from extract.errors import MalformedInput
from extract.http import PublisherClient
from extract.landing import MORE_WINDOWS, batches, reject
from extract.medlineplus import settings
from extract.medlineplus.helpers import (
    TOPICS,
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


# No `columns` here: it lands two tables, each item bound to its own by `to_table`.
@dlt.resource(name="health_topics", table_name=TABLE, write_disposition="append")
def health_topics(location: str, download_dir: str) -> Iterator[Any]:
    """The health topics files at `location` newer than the newest landed, oldest first,
    one file per window (and load).

    The cursor is the newest file date landed (`newest_file_date` in the resource state,
    committed with the file's rows): a URL whose file name says it is not newer is not
    even downloaded. Every file offered is accounted for (`BulkLedger`, keyed by the file
    date): a health topics file is recognised by its root element `<health-topics>`,
    whatever it is named; one of a date landed, or older than the newest landed (a
    snapshot the newer one supersedes), lands nothing; every other file is listed as not
    a release file.
    """
    state = dlt.current.resource_state()
    ledger = BulkLedger(settings.SOURCE, state)
    _adopt_legacy_state(state, ledger)
    newest = (
        date.fromisoformat(state["newest_file_date"]) if state.get("newest_file_date") else None
    )
    path = _local_copy(location, Path(download_dir), newest)
    state[MORE_WINDOWS] = False
    if path is None:
        return
    dated: dict[str, date | MalformedInput | None] = {}
    rejected_before: set[str] = set()
    for member in ledger.offered(path):
        dated[member.uri] = _file_date(member)
        if identity(member) in ledger.rejected:
            rejected_before.add(member.uri)
    pending = sorted(
        (found, uri)
        for uri, found in dated.items()
        if isinstance(found, date)
        and (newest is None or found > newest)
        and not ledger.has_landed(found.isoformat())
        and uri not in rejected_before
    )
    chosen = pending[0][1] if pending else None
    for member in ledger.offered(path):
        found = dated.get(member.uri)
        if found is None:
            ledger.not_release_file(member, "not a <health-topics> document")
        elif isinstance(found, date) and ledger.has_landed(found.isoformat()):
            ledger.already_landed(member, found.isoformat())
        elif isinstance(found, date) and newest and found <= newest:
            ledger.nothing_new(member, f"not newer than the {newest} file landed")
        elif ledger.was_rejected(member):
            continue
        elif isinstance(found, MalformedInput):
            ledger.reject(member, found)
            yield reject(found)
        elif member.uri == chosen:
            yield from _land_file(member, found, ledger)
            state["newest_file_date"] = max(found, newest or date.min).isoformat()
    state[MORE_WINDOWS] = len({found for found, _ in pending}) > 1


def _file_date(member: BulkMember) -> date | MalformedInput | None:
    """The date of a health topics file (the one in its name or its archive's, else its
    root's `date-generated`); None when it is not one; `MalformedInput` when it cannot be
    read or tells no date."""
    if member.problem:
        return MalformedInput(settings.SOURCE, member.uri, member.problem)
    root = xml_root(peek(member))
    if root is None or root.tag != TOPICS:
        return None
    named = file_date_of(member.name.rsplit("/", 1)[-1]) or file_date_of(member.path.name)
    found = named or generated_date(root.attributes.get("date-generated"))
    if found is None:
        return MalformedInput(
            settings.SOURCE,
            member.uri,
            "no date: neither its name (mplus_topics_YYYY-MM-DD) nor date-generated says one",
        )
    return found


def _land_file(member: BulkMember, file_date: date, ledger: BulkLedger) -> Iterator[Any]:
    """The topics of one file, all or nothing (a file that breaks is one reject)."""
    try:
        rows = _read_member(member, file_date)
    except MalformedInput as bad:
        ledger.reject(member, bad)
        yield reject(bad)
        return
    yield from batches(rows, TOPICS_TABLE, bind=True)
    log.info("%s: %d topics of %s (%s)", settings.SOURCE, len(rows), member.uri, file_date)
    ledger.landed_file(member, file_date.isoformat(), len(rows))


def _adopt_legacy_state(state: dict[str, Any], ledger: BulkLedger) -> None:
    """The newest file the source's own cursor landed stays landed; the undated files it
    passed over are now dated by their root and need no list."""
    if state.get("newest_file_date"):
        ledger.adopt([state["newest_file_date"]])
    state.pop("passed_undated", None)


def _local_copy(location: str, download_dir: Path, newest: date | None) -> Path | None:
    """The local path of `location`: a folder or file as is; a file URL downloaded (unless
    its name says it is not newer than `newest`); the XML page's newest linked file."""
    if urlsplit(location).scheme not in ("http", "https"):
        return resolve_location(location, source=settings.SOURCE, download_dir=download_dir)
    url = location
    if not file_date_of(Path(urlsplit(location).path).name):
        client = PublisherClient(settings.SOURCE)
        account_of(settings.SOURCE).read_page(location)  # the run's way in
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


def _read_member(member: BulkMember, file_date: date) -> list[dict[str, Any]]:
    """Every topic row of a health topics file (all or nothing)."""
    rows: list[dict[str, Any]] = []
    about = None
    with member.open() as stream:
        for seen, topic in iter_topics(stream, where=member.uri):
            about = seen
            rows.append(topic_row(topic, file_date=file_date, source_uri=member.uri))
    if not rows:
        raise MalformedInput(settings.SOURCE, member.uri, "holds no health-topic")
    if about and about.total is not None and about.total != len(rows):
        raise MalformedInput(
            settings.SOURCE,
            member.uri,
            f"holds {len(rows)} health-topic elements, but its total says {about.total}",
        )
    return rows


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
