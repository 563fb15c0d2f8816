"""FAERS: FDA Adverse Event Reporting System reports, from FDA's quarterly ASCII files or
openFDA's `/drug/event.json` API.

Resources:

- `quarters` (bulk): FDA's quarterly extracts (`faers_ascii_2017q2.zip`, legacy
  `aers_ascii_2004q1.zip`) from a folder, a zip, or a URL of one. Each file kind lands
  in its raw table, one row per line, keyed by `primaryid`/`caseid` (legacy AERS: `isr`
  in `primaryid`, DEMO's `case` in `caseid`), with `quarter` and `layout` (`faers` or
  `aers`): `raw_faers.demo`, `drug`, `reac`, `outc`, `rpsr`, `ther`, `indi`, and the
  deleted-case lists (`Deleted/DELETEyyQq.txt`) in `raw_faers.deleted_cases` (`deleted`
  true). The cursor is the quarter: each quarter is one window (one load), landed once,
  in quarter order; the files landed (quarter and kind) are in the shared bulk ledger in
  the resource state, and what each file landed, rejected and recoded is in
  `raw_faers.quarter_files`. Files are recognised by their header, whatever FDA named
  them. A line with the
  wrong number of fields goes to `raw_faers.rejects` with its file and line; the rest of
  the quarter lands.
- `events` (API): openFDA safety reports received in the next `receivedate` window,
  paged with `search_after` through the `Link` header (`skip` stops at 25,000), landed
  unchanged in `raw_faers.events` keyed by `safetyreportid` + `safetyreportversion`,
  cursor `receivedate`; an optional key (`sources.faers.api_key`) raises the rate limit.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dlt
import pyarrow as pa
from dlt.sources import DltResource

from extract.bulk import BulkLedger, BulkMember, identity, resolve_location
from extract.discovery import not_landed, releases
from extract.errors import MalformedInput, RequestRejected
from extract.faers import settings
from extract.faers.helpers import (
    EVENTS,
    KINDS,
    LEDGER,
    REPORT_TABLES,
    ParsedFile,
    QuarterFile,
    compact_date,
    event_results,
    event_row,
    file_kind_of,
    landing_table,
    ledger_row,
    quarter_of,
    quarter_order,
    read_quarter_file,
    receipt_date_search,
)
from extract.http import PublisherClient
from extract.landing import MORE_WINDOWS, reject, to_table
from extract.parallel import ParsePool, pool_of
from extract.publication import Publication, openfda_meta, record_as_of, record_publication
from extract.spec import SourceSpec
from medmirror.settings import SAMPLES_DIR

log = logging.getLogger(__name__)


@dlt.source(name=settings.SOURCE)
def faers(
    api_url: str = settings.API_URL,
    page_size: int = settings.PAGE_SIZE,
    start_date: str | None = None,
    window_days: int = settings.WINDOW_DAYS,
    bulk_location: str | None = None,
    download_dir: str = ".",
    discover_quarters: bool = False,
    quarters_page_url: str = settings.QUARTERS_PAGE_URL,
) -> list[DltResource]:
    """The openFDA API resource; with `bulk_location` the quarterly files there only; with
    `discover_quarters` the quarterly files FDA's page (`quarters_page_url`) links that
    have not landed yet, only."""
    if bulk_location:
        return [
            quarters(
                bulk_location,
                download_dir=download_dir,
            )
        ]
    if discover_quarters:
        return [quarters(None, download_dir=download_dir, listing_url=quarters_page_url)]
    return [
        events(api_url=api_url, page_size=page_size, start_date=start_date, window_days=window_days)
    ]


# -- quarterly ASCII files -----------------------------------------------------------------


# No `columns` here: it lands ten tables, each item bound to its own by `to_table`.
@dlt.resource(name="quarters", write_disposition="append")
def quarters(
    location: str | None, download_dir: str, listing_url: str | None = None
) -> Iterator[Any]:
    """The next quarter at `location` not landed yet, all its files in one window; with
    `listing_url` (FDA's quarterly page) instead, the oldest quarter it links (its ASCII
    zip) that has not landed yet, downloaded. (Not named `quarters_page_url`: dlt fills a
    resource argument named as a setting from the config, which would turn every bulk run
    into a page read.)

    Quarters land oldest first (a later quarter's case versions and deletions land after
    what they replace), each committed on its own. Every file offered is accounted for
    (`BulkLedger`, keyed by quarter and kind: `2017Q2 DRUG`): a quarterly file is
    recognised by its `$`-delimited header, whatever FDA named it (`DRUG17Q2.txt`,
    `drug17q2.txt`, legacy AERS `DRUG04Q1.TXT`), and every other file offered is listed as
    not a release file; a file landed before, from this location or another, is not
    landed again. `--full` lands them again (raw keeps both copies; dbt keeps one version
    per case).
    """
    state = dlt.current.resource_state()
    legacy = _legacy_keys(state)
    ledger = BulkLedger(settings.SOURCE, state)
    ledger.adopt(legacy)
    later = 0  # quarters the page links, not landed, after this one
    if listing_url:
        location, later = _next_listed_quarter(listing_url, ledger, Path(download_dir))
        if location is None:
            state[MORE_WINDOWS] = False
            return
    path = resolve_location(location, source=settings.SOURCE, download_dir=Path(download_dir))
    pending = _pending_quarters(ledger, path)
    quarter = min(pending, key=quarter_order) if pending else None
    if quarter:
        log.info("%s: landing quarter %s from %s", settings.SOURCE, quarter, location)
    kinds: set[str] = set()
    pool = pool_of(settings.SOURCE)
    upcoming = _to_parse(ledger, path, pending) if pool.settings.parallel and quarter else []
    parsed_dir = Path(download_dir) / settings.SOURCE / "parsed"
    for member in ledger.offered(path):
        quarter_file = _quarter_file(member)
        if quarter_file is None:
            ledger.not_release_file(member, "no FAERS header ($-delimited, with its report key)")
        elif isinstance(quarter_file, QuarterFile) and ledger.has_landed(quarter_file.key):
            ledger.already_landed(member, quarter_file.key)
        elif ledger.was_rejected(member):
            continue
        elif isinstance(quarter_file, MalformedInput):  # a broken archive, no quarter
            ledger.reject(member, quarter_file)
            yield reject(quarter_file)
        elif quarter_file.quarter == quarter:
            kinds.add(quarter_file.kind)
            ahead = [identity(later) for later in upcoming]
            key = identity(member)
            pool.ahead(upcoming[ahead.index(key) :] if key in ahead else [], parse_file, parsed_dir)
            yield from _land_file(member, quarter_file, ledger, pool)
    if quarter and "DEMO" not in kinds and not ledger.has_landed(f"{quarter} DEMO"):
        yield reject(
            MalformedInput(
                settings.SOURCE,
                f"{location} quarter {quarter}",
                "holds no DEMO file: its other files landed, but no report is current "
                "without its DEMO row",
            )
        )
    state[MORE_WINDOWS] = len(pending) > 1 or later > 0


def _to_parse(ledger: BulkLedger, path: Path, pending: set[str]) -> list[BulkMember]:
    """The files this window and the next land, in the order they land (this quarter's
    in the order offered, then the next quarter's): parsed ahead on workers."""
    next_two = sorted(pending, key=quarter_order)[:2]
    files = []
    for member in ledger.offered(path):
        quarter_file = _quarter_file(member)
        if (
            isinstance(quarter_file, QuarterFile)
            and quarter_file.quarter in next_two
            and not _done(ledger, member, quarter_file)
        ):
            files.append((next_two.index(quarter_file.quarter), member))
    return [member for _, member in sorted(files, key=lambda found: found[0])]


def _pending_quarters(ledger: BulkLedger, path: Path) -> set[str]:
    """The quarters of the files at `path` that still need landing."""
    pending: set[str] = set()
    for member in ledger.offered(path):
        quarter_file = _quarter_file(member)
        if isinstance(quarter_file, QuarterFile) and not _done(ledger, member, quarter_file):
            pending.add(quarter_file.quarter)
    return pending


def _next_listed_quarter(
    page_url: str, ledger: BulkLedger, download_dir: Path
) -> tuple[str | None, int]:
    """The URL of the oldest quarterly ASCII zip FDA's page links that has not landed
    (its DEMO file), and how many such quarters follow it; (None, 0) when every one has.

    A zip whose files were all landed or rejected before (a broken archive is not read
    again until FDA replaces it) is passed over, so a bad quarter never stops the ones
    after it."""
    found = releases(
        PublisherClient(settings.SOURCE),
        page_url,
        pattern=settings.QUARTER_ZIP,
        recognise=_quarter_of_zip,
    )
    waiting = not_landed(found, lambda release: ledger.has_landed(f"{release.name} DEMO"))
    for position, release in enumerate(waiting):
        url = release.urls[0]
        path = resolve_location(url, source=settings.SOURCE, download_dir=download_dir)
        if _pending_quarters(ledger, path) or _unread_problems(ledger, path):
            log.info(
                "%s: %d quarters on %s not landed yet; next %s",
                settings.SOURCE,
                len(waiting) - position,
                page_url,
                release.name,
            )
            return url, len(waiting) - position - 1
    log.info("%s: every quarter %s links has landed", settings.SOURCE, page_url)
    return None, 0


def _unread_problems(ledger: BulkLedger, path: Path) -> bool:
    """Whether the files at `path` hold one that cannot be landed (a broken archive, no
    quarter) and has not been rejected yet: it is read, to be rejected by name."""
    return any(
        isinstance(_quarter_file(member), MalformedInput) and not ledger.was_rejected(member)
        for member in ledger.offered(path)
    )


def _quarter_of_zip(named: re.Match[str]) -> tuple[str, tuple[int, int]]:
    """A quarterly zip's quarter as the ledger names it (`2017Q2`) and its order."""
    year, q = int(named.group("year")), int(named.group("q"))
    return f"{year}Q{q}", (year, q)


def _quarter_file(member: BulkMember) -> QuarterFile | MalformedInput | None:
    """What a member is: a file of a quarter, a release file that cannot be landed (an
    archive that cannot be read, a file whose quarter nothing says), or None (not one)."""
    if member.problem:
        return MalformedInput(settings.SOURCE, member.uri, member.problem)
    kind = file_kind_of(member)
    if kind is None:
        return None
    quarter = quarter_of(member)
    if quarter is None:
        return MalformedInput(
            settings.SOURCE,
            member.uri,
            f"a FAERS {kind} file, but neither its name nor its archive's or folder's says "
            "which quarter (yyQq) it is",
        )
    return QuarterFile(kind, quarter)


def _done(ledger: BulkLedger, member: BulkMember, quarter_file: QuarterFile) -> bool:
    """Whether a file needs no landing: landed before, or this very file rejected before."""
    return ledger.has_landed(quarter_file.key) or identity(member) in ledger.rejected


def _legacy_keys(state: dict[str, Any]) -> list[str]:
    """The files the source's own ledger landed before the shared one (quarter -> the
    kinds of its files landed), as ledger keys. The archives it rejected (by place only)
    are read again once."""
    landed = state.pop("landed_quarters", {})
    state.pop("rejected_archives", None)
    return [f"{quarter} {kind}" for quarter, was in landed.items() for kind in was["files"]]


@dataclass(frozen=True)
class ParsedQuarterFile:
    """A quarterly file a parse worker read (`parse_file`): its landing table in the
    Arrow IPC file at `path`, what `read_quarter_file` said of it (without its rows), or
    the problem it was rejected for."""

    path: str
    parsed: ParsedFile | None = None
    problem: str | None = None

    def table(self) -> pa.Table:
        with pa.OSFile(self.path, "rb") as file, pa.ipc.open_stream(file) as reader:
            return reader.read_all()


def parse_file(member: BulkMember, out: Path) -> ParsedQuarterFile:
    """One quarterly file read and made into its landing table (`landing_table`) on a
    parse worker (`extract.parallel`), written to the Arrow IPC file `out`."""
    quarter_file = _quarter_file(member)
    if not isinstance(quarter_file, QuarterFile):  # it was one when it was offered
        raise MalformedInput(settings.SOURCE, member.uri, "no longer a FAERS quarterly file")
    try:
        parsed = read_quarter_file(member, quarter_file.kind)
    except MalformedInput as bad:
        return ParsedQuarterFile(str(out), problem=bad.problem)
    table = landing_table(parsed, quarter_file, source_uri=member.uri)
    with pa.ipc.new_stream(
        str(out), table.schema, options=pa.ipc.IpcWriteOptions(compression="lz4")
    ) as writer:
        writer.write_table(table)
    return ParsedQuarterFile(str(out), parsed=replace(parsed, rows=parsed.rows.slice(0, 0)))


def _land_file(
    member: BulkMember, quarter_file: QuarterFile, ledger: BulkLedger, pool: ParsePool
) -> Iterator[Any]:
    """The landing rows of one file, its rejects, and its row in `raw_faers.quarter_files`
    (read here, or by a parse worker)."""
    done = pool.parsed(member)
    try:
        if done is None:
            parsed = read_quarter_file(member, quarter_file.kind)
            table = None
        elif done.problem is not None:
            raise MalformedInput(settings.SOURCE, member.uri, done.problem)
        else:
            parsed, table = done.parsed, done.table()
    except MalformedInput as bad:
        pool.done(member)
        ledger.reject(member, bad)
        yield reject(bad)
        yield to_table(
            ledger_row(None, quarter_file, source_uri=member.uri, landed=0, rejected=1),
            LEDGER,
        )
        return
    for row in parsed.ragged:
        yield reject(MalformedInput(settings.SOURCE, member.uri, row.problem()))
    for problem in parsed.problems:
        yield reject(MalformedInput(settings.SOURCE, member.uri, problem))
    if parsed.recoded:
        log.warning(
            "%s: %s: %d rows held bytes that are not UTF-8, landed decoded as Latin-1 (keys %s)",
            settings.SOURCE,
            member.uri,
            parsed.recoded,
            ", ".join(parsed.recoded_keys),
        )
    if table is None:
        table = landing_table(parsed, quarter_file, source_uri=member.uri)
    pool.done(member)
    log.info("%s: %d rows of %s", settings.SOURCE, table.num_rows, member.uri)
    if table.num_rows:
        yield to_table(table, REPORT_TABLES[quarter_file.table])
    yield to_table(
        ledger_row(
            parsed,
            quarter_file,
            source_uri=member.uri,
            landed=table.num_rows,
            rejected=len(parsed.ragged) + len(parsed.problems),
        ),
        LEDGER,
    )
    ledger.landed_file(member, quarter_file.key, table.num_rows)


# -- openFDA /drug/event.json --------------------------------------------------------------


# No `columns` here: it lands two tables, each item bound to its own by `to_table`.
@dlt.resource(name="events", table_name=EVENTS.name, write_disposition="append")
def events(
    api_url: str = settings.API_URL,
    page_size: int = settings.PAGE_SIZE,
    start_date: str | None = None,
    window_days: int = settings.WINDOW_DAYS,
) -> Iterator[Any]:
    """Safety report versions openFDA received in the next window of `window_days` days,
    every page of it, never past what openFDA has published.

    openFDA publishes FAERS a quarter at a time, weeks after the quarter ends: a window
    past its data is empty today and fills later. So each run first asks openFDA what it
    has published (one report, newest `receiptdate` first): `meta.last_updated` (its as-of
    date), `meta.results.total` (its count of reports, kept for reconciliation) and the
    newest receipt date it holds. The windows run up to that cutoff (never past the as-of
    date or today); the last one is asked again from the cutoff less `OVERLAP_DAYS` on the
    next publication, and not at all while openFDA has published nothing new.

    Windows search `receiptdate`, the date FDA received the version (a follow-up version
    of a case keeps the case's first `receivedate`, so searching that would never find
    it). The cursor (`next_from`), the cutoff (`published_through`) and the as-of date of
    the last finished pass (`as_of`) are kept in the resource state. A window openFDA has
    no reports for answers 404 NOT_FOUND: an empty window, not an error.
    """
    state = dlt.current.resource_state()
    today = date.today()
    client = PublisherClient(settings.SOURCE, api_urls=(api_url,))
    as_of, _, newest = _published(client, api_url)
    record_as_of(state, as_of)
    if newest is None:
        log.info("%s: openFDA holds no reports yet", settings.SOURCE)
        state[MORE_WINDOWS] = False
        return
    cutoff = min(day for day in (newest, as_of, today) if day is not None)
    if as_of is not None and state.get("as_of") == as_of.isoformat():
        log.info(
            "%s: openFDA has published nothing since %s (data through %s)",
            settings.SOURCE,
            as_of,
            cutoff,
        )
        state[MORE_WINDOWS] = False
        return
    start = _api_start(state, start_date, cutoff)
    start = min(start, cutoff)
    end = min(start + timedelta(days=max(window_days, 1) - 1), cutoff)
    params: dict[str, Any] | None = {
        "search": receipt_date_search(start, end),
        "sort": "receiptdate:asc",
        "limit": page_size,
    }
    url = api_url
    page = landed = 0
    while url:
        page += 1
        what = f"page {page} of reports received {start} to {end}"
        try:
            response = client.get(url, params=params, what=what)
        except RequestRejected as refused:
            if page == 1 and " answered 404" in refused.problem:
                log.info("%s: no reports received %s to %s", settings.SOURCE, start, end)
                break
            raise
        try:
            document = response.json()
        except ValueError:
            raise MalformedInput(settings.SOURCE, what, "the answer is not JSON") from None
        rows = [
            event_row(result, source_uri=api_url, where=what)
            for result in event_results(document, where=what)
        ]
        if rows:
            landed += len(rows)
            table = pa.Table.from_pylist(rows, schema=EVENTS.schema)
            yield to_table(table, EVENTS)
        log.info("%s: %s, %d reports so far", settings.SOURCE, what, landed)
        url = _next_page(response, client.api_key_param)
        params = None  # the next link carries the whole query, search_after included
    closed = end < cutoff
    if closed:
        state["next_from"] = (end + timedelta(days=1)).isoformat()
    else:  # the whole publication is landed: the next one is asked from its cutoff
        state["next_from"] = (cutoff - timedelta(days=settings.OVERLAP_DAYS)).isoformat()
        state["published_through"] = cutoff.isoformat()
        state["as_of"] = as_of.isoformat() if as_of else None
        since = date.fromisoformat(state.setdefault("mirrored_from", start.isoformat()))
        record_publication(
            state,
            Publication(
                as_of=as_of,
                total=_count(client, api_url, receipt_date_search(since, cutoff)),
                counted=f"safety reports received {since} to {cutoff}",
                how=f"openFDA meta.results.total of {api_url}?search=receiptdate:[...]",
                since=since,
                through=cutoff,
            ),
        )
    state.setdefault("mirrored_from", start.isoformat())
    state[MORE_WINDOWS] = closed


def _count(client: PublisherClient, api_url: str, search: str) -> int:
    """How many reports openFDA holds matching `search` (its `meta.results.total`)."""
    what = f"how many reports openFDA holds for {search}"
    try:
        response = client.get(api_url, params={"search": search, "limit": 1}, what=what)
    except RequestRejected as refused:
        if " answered 404" in refused.problem:
            return 0
        raise
    try:
        _, total = openfda_meta(response.json())
    except ValueError:
        raise MalformedInput(settings.SOURCE, what, "the answer is not JSON") from None
    if total is None:
        raise MalformedInput(settings.SOURCE, what, "the answer has no meta.results.total")
    return total


def _published(
    client: PublisherClient, api_url: str
) -> tuple[date | None, int | None, date | None]:
    """openFDA's as-of date, its count of reports and the newest receipt date it holds,
    from one report sorted newest receipt first (all None when it holds none)."""
    what = "what openFDA has published (the newest report)"
    try:
        response = client.get(api_url, params={"sort": "receiptdate:desc", "limit": 1}, what=what)
    except RequestRejected as refused:
        if " answered 404" in refused.problem:
            return None, 0, None
        raise
    try:
        document = response.json()
    except ValueError:
        raise MalformedInput(settings.SOURCE, what, "the answer is not JSON") from None
    as_of, total = openfda_meta(document)
    results = event_results(document, where=what)
    newest = compact_date(results[0].get("receiptdate")) if results else None
    if newest is None and results:
        raise MalformedInput(settings.SOURCE, what, "the newest report has no receiptdate")
    return as_of, total, newest


def _next_page(response: Any, key_param: str) -> str | None:
    """The `Link: <...>; rel="next"` URL, without any key (the client adds its own)."""
    link = response.links.get("next", {}).get("url")
    if not link:
        return None
    parts = urlsplit(link)
    query = [(name, value) for name, value in parse_qsl(parts.query) if name != key_param]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _api_start(state: dict[str, Any], start_date: str | None, cutoff: date) -> date:
    if state.get("cursor_field") != "receiptdate":  # an older release's receivedate cursor
        state.pop("next_from", None)
        state["cursor_field"] = "receiptdate"
    if state.get("next_from"):
        return date.fromisoformat(state["next_from"])
    if start_date:
        return date.fromisoformat(start_date)
    return cutoff - timedelta(days=settings.INITIAL_DAYS)


__all__ = ["KINDS", "SPEC", "faers"]


SPEC = SourceSpec(
    name=settings.SOURCE,
    # Daily: the openFDA window. Quarterly ASCII files: the monthly run finds those FDA's
    # page links and lands the ones not landed (`discover_quarters`), or --bulk.
    make_source=faers,
    raw_tables=(*REPORT_TABLES.values(), LEDGER, EVENTS),
    status_table="demo",
    cursor_column="fda_dt",
    marts=(
        "adverse_event_reports",
        "adverse_event_drugs",
        "adverse_event_reactions",
        "drug_reaction_signals",
        "adverse_event_indications",
        "adverse_event_therapies",
        "drug_reaction_signals_by_quarter",
    ),
    samples=SAMPLES_DIR / "faers",
    listed_releases="discover_quarters",
)
