"""DailyMed: FDA's Structured Product Labels (SPL) as NLM publishes them, from DailyMed's
web services (v2) or its release archives.

Raw tables (all append-only, `record` jsonb, `source_uri`, `deleted`):

- `raw_dailymed.labels`: one parsed SPL document per row (key `set_id` + `version`,
  cursor `published_date` from the API list, `effective_time` from the document).
- `raw_dailymed.pharmacologic_classes`: one row per substance of a pharmacologic-class
  indexing SPL (document type 60685-5), with its classes (key `set_id` + `version`, `unii`).
- `raw_dailymed.label_history`: one row per version in a label's history (key `set_id` +
  `spl_version`, `published_date`).
- `raw_dailymed.drug_classes`: DailyMed's list of drug classes (key `class_code`),
  landed again only when the list changed.
- `raw_dailymed.rejects`: labels and archive members that could not be read, and why.
- `raw_dailymed.listed_keys`: the set ids a complete listing (the whole SPL list, a
  declared full release set) named while it is read (`extract.tombstones`).

Resources:

- `labels`: `GET /spls.json?published_date=D&published_date_comparison=gte` page by page
  (each page committed with its labels), then each listed label's SPL XML
  (`/spls/{setid}.xml`) and version history (`/spls/{setid}/history.json`). The cursor,
  committed with the data, is the newest published date landed; the next run asks from
  the day before it (one day of overlap).
- `drug_classes`: `GET /drugclasses.json`, paged.
- `labels_listing`: every `full_list_days` days, the whole SPL list (`/spls.json`
  unfiltered), and a deletion notice (tombstone) for each label it no longer names.
- `labels_bulk`: release archives (a zip of per-label zips, a folder of them or of XML
  files, a single per-label zip or XML file) from a path or URL; only XML is read. Each
  top-level file is landed once (the ledger of files landed in the resource state).
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import re
from collections.abc import Generator, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
import orjson
import pyarrow as pa
from dlt.sources import DltResource

from extract.bulk import BulkLedger, BulkMember, identity, resolve_location
from extract.dailymed import settings
from extract.dailymed.listing import list_page, listed_spl, listed_total
from extract.dailymed.release import NotRead, SplFile, release_kind, spl_files
from extract.dailymed.rows import (
    drug_class_row,
    history_rows,
    is_pharmacologic_class_indexing,
    label_row,
    pharmacologic_class_rows,
)
from extract.dailymed.spl import parse_spl
from extract.dailymed.tables import CLASSES, DRUG_CLASSES, HISTORY, LABELS, TABLES
from extract.errors import MalformedInput, RequestRejected
from extract.http import PublisherClient
from extract.landing import BATCH_BYTES, MORE_WINDOWS, batches, reject, to_table
from extract.parallel import pool_of
from extract.publication import Publication, record_publication
from extract.raw import RawTable
from extract.spec import SearchExample, SourceSpec
from extract.tombstones import LISTED, Listing, forget_other_listings, missing
from medmirror.settings import SAMPLES_DIR

# The kinds of complete listing (`extract.tombstones`), as their ids begin.
WHOLE_LIST = "DailyMed SPL list"
FULL_SET = "DailyMed full release set"

log = logging.getLogger(__name__)


@dlt.source(name=settings.SOURCE)
def dailymed(
    api_url: str = settings.API_URL,
    page_size: int = settings.PAGE_SIZE,
    start_date: str | None = None,
    fetch_history: bool = settings.FETCH_HISTORY,
    bulk_location: str | None = None,
    bulk_labels_per_window: int = settings.BULK_LABELS_PER_WINDOW,
    bulk_full_release: bool = settings.BULK_FULL_RELEASE,
    full_list_days: int = settings.FULL_LIST_DAYS,
    list_pages_per_window: int = settings.LIST_PAGES_PER_WINDOW,
    download_dir: str | None = None,
) -> list[DltResource]:
    """The API resources, or with `bulk_location` the bulk resource only."""
    if bulk_location:
        return [
            labels_bulk(
                bulk_location,
                labels_per_window=bulk_labels_per_window,
                download_dir=download_dir,
                full_release=bulk_full_release,
            )
        ]
    # `land()` runs the source once per window: the drug classes are asked in the first
    # window of a run only (not while the SPL list or the whole-list read is in progress),
    # the published-since list is not asked again while only the whole list is being read.
    kept = dlt.current.source_state().get("resources", {})
    labels_busy = bool(kept.get("labels", {}).get("in_progress"))
    listing_state = kept.get("labels_listing", {})
    listing_busy = bool(listing_state.get("progress"))
    listing = labels_listing(
        api_url=api_url, page_size=page_size, pages_per_window=list_pages_per_window
    )
    if listing_busy and not labels_busy:
        return [listing]
    resources = [
        labels(
            api_url=api_url,
            page_size=page_size,
            start_date=start_date,
            fetch_history=fetch_history,
        )
    ]
    if not labels_busy and not listing_busy:
        resources.append(drug_classes(api_url=api_url, page_size=page_size))
    if listing_busy or _listing_due(listing_state, full_list_days):
        resources.append(listing)
    return resources


def _listing_due(state: dict[str, Any], every_days: int) -> bool:
    """Whether the whole SPL list is to be read this run (every `every_days`, 0: never)."""
    if every_days <= 0:
        return False
    listed_on = state.get("listed_on")
    return not listed_on or (date.today() - date.fromisoformat(listed_on)).days >= every_days


def _batches(items: Iterable[Any]) -> Generator[Any, None, Any]:
    """`items` (rows as `(table, row)`) batched per raw table, and bounded by bytes too: a
    prescription label is about 100 KB of JSON."""
    return batches(items, LABELS, CLASSES, HISTORY, max_bytes=BATCH_BYTES)


def _label_rows(
    record: dict[str, Any], *, source_uri: str, published: date | None = None
) -> Iterator[tuple[RawTable, dict[str, Any]]]:
    """The rows of one label: the label's, and a pharmacologic-class indexing SPL's
    substances."""
    yield LABELS, label_row(record, source_uri=source_uri, published_date=published)
    if is_pharmacologic_class_indexing(record):
        for row in pharmacologic_class_rows(record, source_uri=source_uri):
            yield CLASSES, row


# -- the web services ----------------------------------------------------------------------


# No `columns` here: it lands several tables, each item bound to its own by `to_table`.
@dlt.resource(name="labels", write_disposition="append")
def labels(
    api_url: str = settings.API_URL,
    page_size: int = settings.PAGE_SIZE,
    start_date: str | None = None,
    fetch_history: bool = settings.FETCH_HISTORY,
) -> Iterator[Any]:
    """The labels published since the cursor, one list page (and its labels) per window.

    The cursor is `published_through` in the resource state (the newest published date
    landed) rather than a `dlt.sources.incremental`: the list is filtered by DailyMed's
    published date, which the SPL documents themselves do not carry. A run asks from the
    day before it (`published_date_comparison=gte`, one day of overlap); a page in
    progress is kept in the state (`in_progress`) so a killed run resumes at that page.
    The first run starts at `start_date`, or where the bulk archives landed end (their
    newest effective time, less the overlap), or `settings.INITIAL_DAYS` ago.
    """
    state = dlt.current.resource_state()
    progress = state.get("in_progress")
    if progress:
        start, page = date.fromisoformat(progress["from"]), progress["next_page"]
        newest = progress.get("newest")
    else:
        start, page, newest = _api_start(state, start_date), 1, None
    client = PublisherClient(settings.SOURCE)
    list_url = f"{api_url}/spls.json"
    what = f"page {page} of the SPLs published since {start}"
    document = client.get_json(
        list_url,
        params={
            "published_date": start.isoformat(),
            "published_date_comparison": "gte",
            "page": page,
            "pagesize": page_size,
        },
        what=what,
    )
    items, next_page = list_page(document, where=what)
    # DailyMed's count of what the list holds (`metadata.total_elements`, on every page).
    total = listed_total(document) if page == 1 else (progress or {}).get("total")
    landed, newest = yield from _batches(
        _page_items(
            client, items, api_url=api_url, what=what, fetch_history=fetch_history, newest=newest
        )
    )
    log.info("%s: %s, %d labels", settings.SOURCE, what, landed)
    if next_page:
        state["in_progress"] = {
            "from": start.isoformat(),
            "next_page": next_page,
            "newest": newest,
            "total": total,
        }
        state[MORE_WINDOWS] = True
        return
    state.pop("in_progress", None)
    if total is not None:
        record_publication(
            state,
            Publication(
                as_of=None,
                total=total,
                counted=f"SPLs published {start} or later",
                how=f"DailyMed metadata.total_elements of {list_url}?published_date={start}"
                "&published_date_comparison=gte",
                since=start,
            ),
        )
    if newest and newest > state.get("published_through", ""):
        state["published_through"] = newest
    state[MORE_WINDOWS] = False


def _page_items(
    client: PublisherClient,
    items: list[Any],
    *,
    api_url: str,
    what: str,
    fetch_history: bool,
    newest: str | None,
) -> Generator[Any, None, tuple[int, str | None]]:
    """The rows of the labels a list page names (their histories' too, with
    `fetch_history`), and a reject for each that cannot be read; returns how many labels,
    and the newest published date, `newest` or later."""
    landed = 0
    for item in items:
        try:
            listed = listed_spl(item, where=what)
        except MalformedInput as bad:
            yield reject(bad)
            continue
        spl_url = f"{api_url}/spls/{listed.set_id}.xml"
        try:
            answer = client.get(spl_url, what=f"SPL {listed.set_id}")
            record = parse_spl(answer.content, where=spl_url)
        except (MalformedInput, RequestRejected) as bad:  # one label: the rest lands
            yield reject(MalformedInput(settings.SOURCE, bad.where, bad.problem))
            continue
        landed += 1
        yield from _label_rows(record, source_uri=spl_url, published=listed.published_date)
        if fetch_history:
            history_url = f"{api_url}/spls/{listed.set_id}/history.json"
            history_what = f"history of SPL {listed.set_id}"
            history = client.get_json(history_url, what=history_what)
            for row in history_rows(
                history, set_id=listed.set_id, source_uri=history_url, where=history_what
            ):
                yield HISTORY, row
        if listed.published_date and (newest is None or listed.published_date.isoformat() > newest):
            newest = listed.published_date.isoformat()
    return landed, newest


def _api_start(state: dict[str, Any], start_date: str | None) -> date:
    overlap = timedelta(days=settings.OVERLAP_DAYS)
    if state.get("published_through"):
        return date.fromisoformat(state["published_through"]) - overlap
    if start_date:
        return date.fromisoformat(start_date)
    bulk = dlt.current.source_state().get("resources", {}).get("labels_bulk", {})
    if bulk.get("newest_effective"):
        return date.fromisoformat(bulk["newest_effective"]) - overlap
    return date.today() - timedelta(days=settings.INITIAL_DAYS)


# No `columns` here: it lands the labels' deletion notices and the keys it listed.
@dlt.resource(name="labels_listing", write_disposition="append")
def labels_listing(
    api_url: str = settings.API_URL,
    page_size: int = settings.PAGE_SIZE,
    pages_per_window: int = settings.LIST_PAGES_PER_WINDOW,
) -> Iterator[Any]:
    """Deletion notices (tombstones) for the labels DailyMed no longer lists.

    `/spls.json` without a published-date filter lists every SPL DailyMed holds; this
    reads it page by page, `pages_per_window` pages per committed window (the set ids
    read land in `raw_dailymed.listed_keys`, so a killed read resumes at its page). How
    "full" is known: the read is complete only when the last page was read (no
    `next_page`, `current_page` = `total_pages`) and it named at least as many set ids as
    DailyMed's `metadata.total_elements` on its first page; the published-since list of
    `labels` is never complete and lands no tombstone. Then each set id raw holds as a
    current label (landed before the read began) that the list did not name lands a
    deletion notice (`deleted`, the set id and its latest version, no record); see
    `extract.tombstones` for the refusals.
    """
    state = dlt.current.resource_state()
    progress = state.get("progress") or {}
    started = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"
    listing = Listing.open(
        state,
        "listing",
        id=progress.get("id") or f"{WHOLE_LIST} read from {started}",
        table=LABELS.name,
    )
    if not progress:
        forget_other_listings(listing, WHOLE_LIST)
    page = progress.get("next_page", 1)
    total = progress.get("total")
    client = PublisherClient(settings.SOURCE)
    url = f"{api_url}/spls.json"
    named: set[str] = set()
    read = 0
    while True:
        what = f"page {page} of DailyMed's whole SPL list"
        document = client.get_json(url, params={"page": page, "pagesize": page_size}, what=what)
        items, next_page = list_page(document, where=what)
        if page == 1:
            total = listed_total(document)
        for item in items:
            try:
                named.add(listed_spl(item, where=what).set_id)
            except MalformedInput as bad:
                yield reject(bad)
        read += 1
        if not next_page or next_page <= page:
            break
        page = next_page
        if read >= max(pages_per_window, 1):
            rows = listing.rows(named)
            if rows is not None:
                yield to_table(rows, LISTED)
            state["progress"] = {"id": listing.id, "next_page": page, "total": total}
            state[MORE_WINDOWS] = True
            return
    rows = listing.rows(named)
    if rows is not None:
        yield to_table(rows, LISTED)
    yield from _tombstones(listing, named, source_uri=url, expected=total)
    state.pop("progress", None)
    state.pop("listing", None)
    state["listed_on"] = date.today().isoformat()
    state[MORE_WINDOWS] = False


def _tombstones(
    listing: Listing, named: set[str], *, source_uri: str, expected: int | None = None
) -> Iterator[Any]:
    """The deletion notices of the labels `listing` (complete) no longer names."""
    gone = missing(
        listing,
        key_column="set_id",
        also_listed=named,
        latest_columns=("version",),
        source=settings.SOURCE,
        expected=expected,
    )
    if isinstance(gone, MalformedInput):
        log.warning("%s: %s", settings.SOURCE, gone)
        yield reject(gone)
        return
    yield from batches(_deletion_rows(gone, source_uri=source_uri), LABELS, bind=True)


def _deletion_rows(
    gone: dict[str, tuple[Any, ...]], *, source_uri: str
) -> Iterator[dict[str, Any]]:
    """A deletion notice for each label `gone` names (set id -> its latest version)."""
    for set_id, (version,) in sorted(gone.items()):
        log.info("%s: %s is no longer published, recording its deletion", settings.SOURCE, set_id)
        yield {
            "set_id": set_id,
            "version": version,
            "record": None,
            "source_uri": source_uri,
            "deleted": True,
        }


@dlt.resource(
    name="drug_classes",
    table_name=DRUG_CLASSES.name,
    write_disposition="append",
    columns=DRUG_CLASSES.columns,
)
def drug_classes(
    api_url: str = settings.API_URL, page_size: int = settings.PAGE_SIZE
) -> Iterator[Any]:
    """DailyMed's drug classes (`/drugclasses.json`, every page). The list is small and
    has no date to follow: it lands again only when it differs from the one landed last
    (a digest of it in the resource state)."""
    state = dlt.current.resource_state()
    client = PublisherClient(settings.SOURCE)
    url = f"{api_url}/drugclasses.json"
    rows: list[dict[str, Any]] = []
    page: int | None = 1
    while page:
        what = f"page {page} of the drug classes"
        document = client.get_json(url, params={"page": page, "pagesize": page_size}, what=what)
        items, next_page = list_page(document, where=what)
        rows += [row for item in items if (row := drug_class_row(item, source_uri=url))]
        page = next_page if next_page and next_page > page else None
    digest = hashlib.sha256(orjson.dumps(sorted(row["record"] for row in rows))).hexdigest()
    if digest == state.get("landed_digest"):
        log.info("%s: the drug classes are unchanged since they were landed", settings.SOURCE)
        return
    if rows:
        yield pa.Table.from_pylist(rows, schema=DRUG_CLASSES.schema)
    state["landed_digest"] = digest


# -- release archives ---------------------------------------------------------------------------


# No `columns` here: it lands several tables, each item bound to its own by `to_table`.
@dlt.resource(name="labels_bulk", write_disposition="append")
def labels_bulk(
    location: str,
    labels_per_window: int = settings.BULK_LABELS_PER_WINDOW,
    download_dir: str | None = None,
    full_release: bool = False,
) -> Iterator[Any]:
    """Every SPL in the release files at `location` not landed before.

    Each top-level file (a release zip, a per-label zip, an SPL XML file) is committed on
    its own, and a file holding more than `labels_per_window` labels in windows of that
    many (a rerun resumes after the last committed document). Every top-level file
    offered is accounted for (`BulkLedger`, keyed by name and size: DailyMed names its
    archives by date, `dm_spl_daily_update_01162026.zip`): a zip or an SPL document (its
    HL7 v3 `document` root) is a release file, whatever it is named, and what became of
    the members inside it is said with it (labels landed, members rejected, members not
    read: images, text); any other file is listed as not a release file. The newest
    effective time landed is kept for the API's first start. A document that cannot be
    read or parsed, or has no set id or version, is recorded in `raw_dailymed.rejects`
    with its name and where it broke; the rest lands. A truncated zip lands the members
    it still holds whole.

    With `full_release` (declared by the user: see `settings.BULK_FULL_RELEASE`) the files
    at `location` are a whole release set, and once every one of them was read to its end
    in this listing (none rejected, none cut short, none landed before it began), each
    label raw holds that the set does not name lands a deletion notice. A set whose
    `..._partN.zip` files do not count from 1 without a gap is not whole, declared or not.
    Without the declaration no tombstone is landed: one part of a release (part1 of five)
    or a daily update names only some labels.
    """
    state = dlt.current.resource_state()
    path = resolve_location(
        location, source=settings.SOURCE, download_dir=Path(download_dir or ".")
    )
    legacy = state.pop("landed_files") if isinstance(state.get("landed_files"), list) else []
    ledger = BulkLedger(settings.SOURCE, state)
    ledger.adopt(legacy)
    progress = state.get("progress") or {}
    newest = state.get("newest_effective")
    holds = False
    release = _FullRelease.open(state, path) if full_release else None
    pool = pool_of(settings.SOURCE)
    upcoming = _to_parse(ledger, path) if pool.settings.parallel else []
    parsed_dir = Path(download_dir or ".") / settings.SOURCE / "parsed"
    for offered in ledger.offered(path, open_archives=False):
        key = _file_key(offered.path)
        if ledger.has_landed(key):
            ledger.already_landed(offered, key)
            if release:
                release.landed_before(key)
            continue
        if release_kind(offered.path) is None:
            ledger.not_release_file(offered, "neither a zip nor an SPL document")
            continue
        if holds:  # one file per window: commit what the previous one landed
            _close(state, newest, progress=None, more=True)
            return
        resuming = progress.get("file") == key
        skip = progress.get("done", 0) if resuming else 0
        counts = _Members(**progress.get("members", {})) if resuming else _Members()
        ahead = [identity(later) for later in upcoming]
        if identity(offered) in ahead:
            pool.ahead(upcoming[ahead.index(identity(offered)) :], parse_file, parsed_dir)
        parsed = pool.parsed(offered)
        items = spl_files(offered.path) if parsed is None else parsed.items(skip)
        read = _FileRead(counts, skip=skip, per_window=labels_per_window, release=release)
        yield from _batches(read.items(items))
        if read.newest and (newest is None or read.newest > newest):
            newest = read.newest
        if read.full:
            log.info(
                "%s: committing bulk window at document %d of %s",
                settings.SOURCE,
                read.position,
                offered.uri,
            )
            ledger.landed_part(offered, read.labels, counts.note())
            if release:
                yield from release.commit_names()
            _close(
                state,
                newest,
                progress={"file": key, "done": read.position, "members": asdict(counts)},
                more=True,
            )
            return
        pool.done(offered)
        ledger.landed_file(offered, key, read.labels, counts.note())
        if release:
            release.file_read(key, whole=counts.rejected == 0)
            yield from release.commit_names()
        holds = True
        log.info("%s: %s landed (%s)", settings.SOURCE, offered.uri, counts.note())
    if release:
        yield from release.finish(source_uri=str(location))
    _close(state, newest, progress=None, more=False)


class _FullRelease:
    """A declared whole release set being read (its state in `state["full_release"]`):
    the files read whole in it, and the set ids it named (committed to `listed_keys`
    with each window)."""

    PART = re.compile(r"^(?P<set>.+)_part(?P<number>\d+)\.zip$", re.IGNORECASE)

    def __init__(self, state: dict[str, Any], listing: Listing, files: list[str]) -> None:
        self.state = state
        self.listing = listing
        self.files = files  # the top-level files of the set (ledger keys)
        self.kept = state.setdefault("full_release", {"read": [], "problems": []})
        self.named: set[str] = set()  # not in `listed_keys` yet
        self.window: set[str] = set()  # named in this window (not loaded before it ends)

    @classmethod
    def open(cls, state: dict[str, Any], path: Path) -> _FullRelease:
        top = sorted(path.iterdir()) if path.is_dir() else [path]
        files = [_file_key(file) for file in top if file.is_file()]
        identity = hashlib.sha256("\n".join(files).encode()).hexdigest()[:16]
        kept = state.get("full_release") or {}
        if kept.get("id") != identity:
            state["full_release"] = {"id": identity, "read": [], "problems": []}
        listing = Listing.open(state, "listing", id=f"{FULL_SET} {identity}", table=LABELS.name)
        if not kept or kept.get("id") != identity:
            forget_other_listings(listing, FULL_SET)
        release = cls(state, listing, files)
        release.kept["problems"] = sorted(set(release.kept["problems"]) | set(_gaps(top)))
        return release

    def landed_before(self, key: str) -> None:
        if key not in self.kept["read"]:
            self.kept["problems"].append(f"{key.split('|')[0]} was landed before this set")

    def file_read(self, key: str, *, whole: bool) -> None:
        if whole:
            self.kept["read"].append(key)
        else:
            self.kept["problems"].append(f"{key.split('|')[0]} was not read whole")

    def commit_names(self) -> Iterator[Any]:
        rows = self.listing.rows(self.named)
        self.window |= self.named
        self.named = set()
        if rows is not None:
            yield to_table(rows, LISTED)

    def finish(self, *, source_uri: str) -> Iterator[Any]:
        """Tombstones once every file of the set was read whole in this listing."""
        unread = [key for key in self.files if key not in self.kept["read"]]
        problems = self.kept["problems"] + [
            f"{key.split('|')[0]} was not read"
            for key in unread
            if not any(key.split("|")[0] in problem for problem in self.kept["problems"])
        ]
        if problems:
            yield reject(
                MalformedInput(
                    settings.SOURCE,
                    source_uri,
                    "declared a full release set but not whole: "
                    + "; ".join(problems[:5])
                    + ": nothing recorded as deleted",
                )
            )
        else:
            yield from self.commit_names()
            yield from _tombstones(self.listing, self.window, source_uri=source_uri)
        self.state.pop("full_release", None)
        self.state.pop("listing", None)


def _gaps(files: list[Path]) -> list[str]:
    """The parts missing from a set's `<set>_partN.zip` files (numbered from 1)."""
    parts: dict[str, set[int]] = {}
    for file in files:
        found = _FullRelease.PART.match(file.name)
        if found:
            parts.setdefault(found["set"], set()).add(int(found["number"]))
    return [
        f"{name}_part{number}.zip is missing"
        for name, numbers in sorted(parts.items())
        for number in range(1, max(numbers) + 1)
        if number not in numbers
    ]


class _FileRead:
    """One release file read into a bulk window: the rows of its labels after the first
    `skip` documents (a reject for each document that cannot be read), until the window
    holds `per_window` labels (`full`)."""

    def __init__(
        self, counts: _Members, *, skip: int, per_window: int, release: _FullRelease | None
    ) -> None:
        self.counts = counts
        self.skip = skip
        self.per_window = max(per_window, 1)
        self.release = release
        self.labels = 0  # landed in this window
        self.position = 0  # documents passed
        self.newest: str | None = None  # the newest effective time landed
        self.full = False

    def items(self, documents: Iterable[Any]) -> Iterator[Any]:
        for item in documents:
            self.position += 1
            if self.position <= self.skip:
                continue
            if isinstance(item, NotRead):
                self.counts.not_read += 1
            elif isinstance(item, MalformedInput):
                self.counts.rejected += 1
                yield reject(item)
            else:
                try:
                    record = item.record if isinstance(item, ParsedSpl) else None
                    if record is None:
                        record = parse_spl(_read(item), where=item.uri)
                except MalformedInput as bad:
                    self.counts.rejected += 1
                    yield reject(bad)
                else:
                    self.counts.labels += 1
                    self.labels += 1
                    yield from _label_rows(record, source_uri=item.uri)
                    if self.release:
                        self.release.named.add(record["set_id"])
                    effective = record.get("effective_time")
                    if effective and (self.newest is None or effective > self.newest):
                        self.newest = effective
            if self.labels >= self.per_window:
                self.full = True
                return


@dataclass
class _Members:
    """What became of the members of one release file (over all its windows)."""

    labels: int = 0  # SPL documents landed
    rejected: int = 0  # documents and members that could not be read (in rejects)
    not_read: int = 0  # members passed by: images, text files

    def note(self) -> str:
        return (
            f"{self.labels:,} SPL documents landed, {self.rejected:,} rejected, "
            f"{self.not_read:,} other members (images, text) not read"
        )


def _read(item: SplFile) -> bytes:
    return item.read()


def _to_parse(ledger: BulkLedger, path: Path) -> list[BulkMember]:
    """The release files to read, in the order they are read: parsed ahead on workers."""
    return [
        offered
        for offered in ledger.offered(path, open_archives=False)
        if not ledger.has_landed(_file_key(offered.path)) and release_kind(offered.path)
    ]


@dataclass(frozen=True)
class ParsedSpl:
    """An SPL document a parse worker parsed (`parse_file`): its record."""

    uri: str
    record: dict[str, Any]


PARSED_ITEMS = pa.schema(
    [
        pa.field("kind", pa.string()),  # label, reject, not_read
        pa.field("uri", pa.string()),  # the member; a reject's place (`where`)
        pa.field("problem", pa.string()),
        pa.field("record", pa.binary()),  # a label's record, pickled (types kept)
    ]
)


@dataclass(frozen=True)
class ParsedRelease:
    """A release file a parse worker read: what `spl_files` gave, in order, each SPL
    document parsed, in the Arrow IPC file at `path`."""

    path: str
    count: int  # what spl_files gave

    def items(self, skip: int) -> Iterator[ParsedSpl | MalformedInput | NotRead | None]:
        """What `spl_files` gave, the first `skip` as None (landed already: not read)."""
        position = 0
        with pa.OSFile(self.path, "rb") as file, pa.ipc.open_stream(file) as reader:
            for batch in reader:
                for kind, uri, problem, record in zip(*batch.to_pydict().values(), strict=True):
                    position += 1
                    if position <= skip:
                        yield None  # counted, not read
                    elif kind == "label":
                        yield ParsedSpl(uri, pickle.loads(record))  # noqa: S301 - our own
                    elif kind == "reject":
                        yield MalformedInput(settings.SOURCE, uri, problem)
                    else:
                        yield NotRead(uri)


def parse_file(member: BulkMember, out: Path) -> ParsedRelease:
    """Every document of a release file (`spl_files`) parsed (`parse_spl`) on a parse
    worker (`extract.parallel`), written in order to the Arrow IPC file `out`."""
    rows: dict[str, list[Any]] = {name: [] for name in PARSED_ITEMS.names}
    count = 0
    options = pa.ipc.IpcWriteOptions(compression="lz4")
    with pa.ipc.new_stream(str(out), PARSED_ITEMS, options=options) as writer:
        for item in spl_files(member.path):
            count += 1
            if isinstance(item, NotRead):
                row = ("not_read", item.uri, None, None)
            elif isinstance(item, MalformedInput):
                row = ("reject", item.where, item.problem, None)
            else:
                try:
                    record = parse_spl(_read(item), where=item.uri)
                except MalformedInput as bad:
                    row = ("reject", bad.where, bad.problem, None)
                else:
                    row = ("label", item.uri, None, pickle.dumps(record))
            for name, value in zip(PARSED_ITEMS.names, row, strict=True):
                rows[name].append(value)
            if len(rows["kind"]) >= PARSED_BATCH:
                writer.write_batch(pa.RecordBatch.from_pydict(rows, schema=PARSED_ITEMS))
                rows = {name: [] for name in PARSED_ITEMS.names}
        if rows["kind"]:
            writer.write_batch(pa.RecordBatch.from_pydict(rows, schema=PARSED_ITEMS))
    return ParsedRelease(str(out), count)


PARSED_BATCH = 200  # parsed documents per Arrow batch: a few MB


def _file_key(file: Path) -> str:
    """A release file as the ledger knows it: its name and size (DailyMed names its
    archives by date: `dm_spl_daily_update_01162026.zip`)."""
    return f"{file.name}|{file.stat().st_size}"


def _close(state: dict[str, Any], newest: str | None, *, progress: dict | None, more: bool) -> None:
    """Commit point: what the window holds, and where the next one starts."""
    if newest:
        state["newest_effective"] = newest
    if progress is None:
        state.pop("progress", None)
    else:
        state["progress"] = progress
    state[MORE_WINDOWS] = more


SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=dailymed,
    raw_tables=TABLES,
    status_table=LABELS.name,
    cursor_column="effective_time",
    # The drug marts: DailyMed is their main source; openFDA, the Orange Book and RxNav
    # feed them too. The drug links read ClinicalTrials.gov, PubMed and FAERS too; they
    # are listed here, with the drugs they link to.
    marts=(
        "drugs",
        "drug_formulations",
        "drug_labels",
        "drug_label_versions",
        "drug_classes",
        "drug_trials",
        "drug_articles",
        "drug_link_ambiguities",
        "drug_profile",
        # The NDC, drug-class and name analyses (marts/analysis/).
        "ndc_products",
        "ndc_labelers",
        "pharmacologic_classes",
        "drug_class_counts",
        "drug_names",
        "drug_name_suffixes",
    ),
    samples=SAMPLES_DIR / "dailymed",
    search=SearchExample(
        mart="drugs",
        query="lipitor",
        shown=("drug_id", "generic_name", "brand_names", "total_formulations"),
    ),
)
