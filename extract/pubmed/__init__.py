"""PubMed: every citation in MEDLINE/PubMed, from NLM's baseline and update files or the
E-utilities API.

Resources, both landing `raw_pubmed.articles` (key `pmid`, cursor `date_revised`):

- `articles`: E-utilities `esearch` for the citations modified (`datetype=mdat`, or
  entered with `date_type="edat"`) in the next date window, kept on NCBI's history
  server (`usehistory=y`), then `efetch` of them in batches; one window committed at a
  time, one day of overlap between runs. A citation that cannot be used (no title) is
  recorded in `raw_pubmed.rejects` naming the request and its PMID.
- `articles_bulk`: NLM's baseline and update files (`pubmedYYnNNNN.xml.gz`) from a
  folder, a file or a URL, landed file by file in name order; each `DeleteCitation`
  lands a deletion notice per PMID. The daily refresh (`daily_source="updatefiles"`, the
  default) runs it on the update files NLM's listing (`updates_page_url`) links that are
  newer than the newest file landed: NLM publishes deletions only there.

`daily_source="eutils"` makes the daily refresh follow the API (`articles`) instead.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.sources import DltResource

from extract.bulk import (
    BulkLedger,
    BulkMember,
    discard_download,
    peek,
    resolve_location,
    xml_root,
)
from extract.discovery import newest, not_landed, releases
from extract.errors import MalformedInput, RequestRejected
from extract.http import PublisherClient
from extract.landing import MORE_WINDOWS, batches, reject, to_table
from extract.parallel import (
    AHEAD_PER_WORKER,
    ITEM,
    Lookahead,
    Parsed,
    ParsedWriter,
    pool_of,
)
from extract.publication import PUBLICATION, Publication, record_publication
from extract.pubmed import settings
from extract.pubmed.helpers import (
    ARTICLE,
    ARTICLES,
    BOOK_ARTICLE,
    BULK_FILE,
    DELETION,
    article_row,
    bulk_file_key,
    deletion_rows,
    fetch_error,
    iter_items,
    md5_of,
    published_md5,
    search_result,
)
from extract.spec import SearchExample, SourceSpec
from medmirror.settings import SAMPLES_DIR

log = logging.getLogger(__name__)

TABLE = ARTICLES.name
# The root elements of NLM's release files: the current format, and the pre-2017 MEDLINE
# one (`MedlineCitationSet`), recognised to be rejected by name rather than passed over.
RELEASE_ROOTS = frozenset({"PubmedArticleSet", "MedlineCitationSet"})


@dlt.source(name=settings.SOURCE)
def pubmed(
    eutils_url: str = settings.EUTILS_URL,
    search_term: str = settings.SEARCH_TERM,
    start_date: str | None = None,
    date_type: str = settings.DATE_TYPE,
    window_days: int = settings.WINDOW_DAYS,
    batch_size: int = settings.BATCH_SIZE,
    eutils_tool: str = settings.EUTILS_TOOL,
    eutils_email: str | None = None,
    bulk_location: str | None = None,
    bulk_articles_per_window: int = settings.BULK_ARTICLES_PER_WINDOW,
    download_dir: str | None = None,
    daily_source: str = settings.DAILY_SOURCE,
    updates_page_url: str = settings.UPDATES_PAGE_URL,
) -> list[DltResource]:
    """With `bulk_location` the bulk resource on it; else the daily source: the bulk
    resource on NLM's new update files (`updatefiles`) or the API resource (`eutils`)."""
    if bulk_location:
        return [
            articles_bulk(
                bulk_location,
                articles_per_window=bulk_articles_per_window,
                download_dir=download_dir,
            )
        ]
    if daily_source not in settings.DAILY_SOURCES:
        raise ValueError(
            f"{settings.SOURCE}: daily_source {daily_source!r} is not one of "
            + ", ".join(f"{name!r} ({what})" for name, what in settings.DAILY_SOURCES.items())
        )
    if daily_source == "updatefiles":
        return [
            articles_bulk(
                None,
                articles_per_window=bulk_articles_per_window,
                download_dir=download_dir,
                listing_url=updates_page_url,
            )
        ]
    return [
        articles(
            eutils_url=eutils_url,
            search_term=search_term,
            start_date=start_date,
            date_type=date_type,
            window_days=window_days,
            batch_size=batch_size,
            eutils_tool=eutils_tool,
            eutils_email=eutils_email,
        )
    ]


# -- the E-utilities API -------------------------------------------------------------------


# No `columns` here: it lands two tables, each item bound to its own by `to_table`.
@dlt.resource(name="articles", table_name=TABLE, write_disposition="append")
def articles(
    eutils_url: str = settings.EUTILS_URL,
    search_term: str = settings.SEARCH_TERM,
    start_date: str | None = None,
    date_type: str = settings.DATE_TYPE,
    window_days: int = settings.WINDOW_DAYS,
    batch_size: int = settings.BATCH_SIZE,
    eutils_tool: str = settings.EUTILS_TOOL,
    eutils_email: str | None = None,
) -> Iterator[pa.Table]:
    """Citations matching `search_term` modified (or with `date_type="edat"`, entered) in
    the next window of `window_days` days (the last window ends today).

    The cursor is the modification date to search from next (`next_from` in the resource
    state) rather than a `dlt.sources.incremental` on a column: PubMed's modification date
    (`mdat`) is not part of the records it returns. A window that ended before today is
    complete and the next one starts the day after it; a window that reached today is
    asked again from today on the next run (one day of overlap: citations modified later
    that day are not missed). The first run starts at `start_date`, or where the bulk
    files landed so far end (their newest DateRevised, less the overlap), or
    `settings.INITIAL_DAYS` ago.
    """
    if date_type not in settings.DATE_TYPES:
        raise ValueError(
            f"{settings.SOURCE}: date_type {date_type!r} is not one of "
            + ", ".join(f"{kind!r} ({meaning})" for kind, meaning in settings.DATE_TYPES.items())
        )
    state = dlt.current.resource_state()
    today = date.today()
    start = min(_api_start(state, start_date, today), today)
    end = min(start + timedelta(days=max(window_days, 1) - 1), today)
    span = f"{start:%Y/%m/%d}-{end:%Y/%m/%d}"
    client = PublisherClient(settings.SOURCE, api_urls=(eutils_url,))
    common: dict[str, Any] = {"db": "pubmed", "tool": eutils_tool}
    if eutils_email:
        common["email"] = eutils_email
    what = f"search of citations {settings.DATE_TYPES[date_type]} {span}"
    answer = client.get(
        f"{eutils_url}/esearch.fcgi",
        params={
            **common,
            "term": search_term,
            "datetype": date_type,
            "mindate": f"{start:%Y/%m/%d}",
            "maxdate": f"{end:%Y/%m/%d}",
            "usehistory": "y",
            "retmax": 0,  # the ids stay on the history server: efetch reads them there
        },
        what=what,
    )
    found = search_result(answer.content, where=what)
    log.info(
        "%s: %d citations %s %s",
        settings.SOURCE,
        found.count,
        settings.DATE_TYPES[date_type],
        span,
    )
    landed = skipped = rejected = 0
    batch_size = max(batch_size, 1)
    for retstart in range(0, found.count, batch_size):
        what = (
            f"efetch of records {retstart + 1}-{min(retstart + batch_size, found.count)} "
            f"of {found.count} {settings.DATE_TYPES[date_type]} {span}"
        )
        answer = client.get(
            f"{eutils_url}/efetch.fcgi",
            params={
                **common,
                "query_key": found.query_key,
                "WebEnv": found.web_env,
                "retstart": retstart,
                "retmax": batch_size,
                "retmode": "xml",
            },
            what=what,
        )
        error = fetch_error(answer.content)
        if error:
            raise RequestRejected(
                settings.SOURCE, what, f"E-utilities answered with an error: {error}"
            )
        rows = []
        received = 0
        for item in iter_items(io.BytesIO(answer.content), where=what):
            received += 1
            if item.tag == ARTICLE:
                try:
                    row = article_row(item, source_uri=eutils_url)
                except MalformedInput as bad:
                    # Asking again would return the same record: it is recorded, not retried.
                    rejected += 1
                    yield reject(MalformedInput(settings.SOURCE, what, bad.problem))
                    continue
                # where it came from: the URL that fetches this one citation again
                row["source_uri"] = f"{eutils_url}/efetch.fcgi?db=pubmed&id={row['pmid']}"
                rows.append(row)
            elif item.tag == BOOK_ARTICLE:
                skipped += 1  # a book chapter (e.g. GeneReviews): not an article
        if not received:
            # Rather than skip the rest of the window silently (an expired history
            # session, a limit of the server): the window is asked again next run.
            raise MalformedInput(settings.SOURCE, what, "the answer holds no records")
        if rows:
            landed += len(rows)
            yield to_table(pa.Table.from_pylist(rows, schema=ARTICLES.schema), ARTICLES)
        log.info("%s: %s, %d articles so far", settings.SOURCE, what, landed)
    if skipped:
        log.info("%s: %d book chapters skipped (%s)", settings.SOURCE, skipped, span)
    closed = end < today
    # A closed window is complete; the last one is asked again from its end next time.
    state["next_from"] = (end + timedelta(days=1) if closed else end).isoformat()
    state[MORE_WINDOWS] = closed
    # esearch's Count of the window against what efetch delivered of it (landed, book
    # chapters skipped, rejected): the raw records carry no modification date to count by.
    publication = Publication(
        as_of=None,
        total=found.count,
        counted=f"citations {settings.DATE_TYPES[date_type]} {span}",
        how=f"NCBI esearch Count of {search_term!r}; mirror: the records efetch delivered",
        since=start,
        through=end,
    )
    record_publication(state, publication)
    state[PUBLICATION]["mirror_count"] = landed + skipped + rejected


def _api_start(state: dict[str, Any], start_date: str | None, today: date) -> date:
    if state.get("next_from"):
        return date.fromisoformat(state["next_from"])
    if start_date:
        return date.fromisoformat(start_date.replace("/", "-"))
    bulk = dlt.current.source_state().get("resources", {}).get("articles_bulk", {})
    if bulk.get("newest_revised"):
        return date.fromisoformat(bulk["newest_revised"]) - timedelta(days=settings.OVERLAP_DAYS)
    return today - timedelta(days=settings.INITIAL_DAYS)


# -- bulk files ------------------------------------------------------------------------------


# No `columns` here: it lands two tables, each item bound to its own by `to_table`.
@dlt.resource(name="articles_bulk", table_name=TABLE, write_disposition="append")
def articles_bulk(
    location: str | None,
    articles_per_window: int = settings.BULK_ARTICLES_PER_WINDOW,
    download_dir: str | None = None,
    listing_url: str | None = None,
) -> Iterator[pa.Table]:
    """Every citation and deletion in the bulk files at `location` not landed before, or
    with `listing_url` in the update files NLM lists there that are newer than the newest
    file landed (`_new_update_files`), downloaded one at a time into `download_dir`. (The
    source's `updates_page_url`, named otherwise here: dlt would inject that setting into
    a bulk load too.)

    Files land in name order (in a folder tree, path order; NLM numbers its files by
    date: the baseline, then the daily updates), each committed on its own: a load holds
    the rows of one file, so a later file's revision or deletion always lands after what
    it replaces. A file holding more than `articles_per_window` articles is committed in
    windows of that many. Every file offered is accounted for (`BulkLedger`, keyed by
    file name without `.gz`): a release file is recognised by its root element
    (`PubmedArticleSet`; the pre-2017 `MedlineCitationSet` too, which is rejected as a
    format this source does not read), whatever it is named; every other file is listed
    as not a release file. A rerun resumes inside the file it stopped in and lands no
    file twice. A file that cannot be read or parsed lands the articles before the fault
    and is recorded in `raw_pubmed.rejects`; the rest of the release lands, and the file
    is read again once it changes.
    """
    state = dlt.current.resource_state()
    legacy = _legacy_keys(state)
    ledger = BulkLedger(settings.SOURCE, state)
    ledger.adopt(legacy)
    progress = state.get("progress") or {}
    window = _BulkWindow(state, articles_per_window)
    folder = Path(download_dir or ".")
    parsed_dir = folder / settings.SOURCE / "parsed"  # what parse workers wrote ahead
    paths: Iterator[Path | MalformedInput]
    if listing_url:
        urls = _new_update_files(listing_url, ledger)
        paths = _checked_downloads(urls, folder, ledger)
        alone = True  # each a file named as NLM names its update files
    elif location and _nlm_file_url(location):  # one baseline or update file of NLM's
        paths = _checked_downloads([location], folder, ledger)
        alone = True
    elif location and _listing_url(location):  # NLM's baseline or update-file folder
        paths = _checked_downloads(_listed_not_landed(location, ledger), folder, ledger)
        alone = True
    else:
        if not location:
            raise ValueError(f"{settings.SOURCE}: a bulk location or an updates page is needed")
        path = resolve_location(location, source=settings.SOURCE, download_dir=folder)
        paths = iter([path])
        alone = path.is_file() and path.suffix != ".zip"  # a file given by itself
    # Lazily: an update file is downloaded when the one before it has landed (with
    # parallel parsing, up to two files per worker ahead of it: `extract.parallel`).
    members = (
        member
        for path in paths
        for member in ([path] if isinstance(path, MalformedInput) else ledger.offered(path))
    )
    pool = pool_of(settings.SOURCE)
    upcoming = Lookahead(
        _to_read(members, ledger, alone=alone),
        pool.settings.workers * AHEAD_PER_WORKER if pool.settings.parallel else 1,
    )
    for member, key in upcoming:
        if isinstance(member, MalformedInput):  # a damaged download: the run ends there
            ledger.refused(member.where, member)
            yield reject(member)
            window.holds_rows = True
            break
        if member.problem is None and ledger.has_landed(key):
            # by a file of the same name this window landed after looking ahead at this one
            ledger.already_landed(member, key)
            continue
        if window.holds_rows:  # one file per load: the next file starts the next window
            log.info("%s: committing bulk window; %s is next", settings.SOURCE, member.uri)
            window.close(None, more=True)
            return
        skip = progress.get("items", 0) if progress.get("file") == key else 0
        progress = {"file": key, "items": skip}
        later = [file for file, _ in upcoming.ahead if isinstance(file, BulkMember)]
        pool.ahead([member, *later], parse_file, parsed_dir)
        try:
            parsed = pool.parsed(member)
            if parsed is None:  # the articles before a break land
                yield from batches(window.read(member, progress, skip=skip), ARTICLES, bind=True)
            else:
                yield from window.read_parsed(parsed, progress, skip=skip)
        except MalformedInput as bad:
            pool.done(member)
            yield reject(bad)
            ledger.reject(member, bad)
            window.holds_rows = True
        else:
            if window.full:
                log.info(
                    "%s: committing bulk window at item %d of %s",
                    settings.SOURCE,
                    progress["items"],
                    member.uri,
                )
                ledger.landed_part(member, window.rows)
                window.close(progress, more=True)
                return
            pool.done(member)
            ledger.landed_file(member, key, window.rows)
            log.info("%s: %s landed", settings.SOURCE, member.uri)
        progress = {}
    window.close(None, more=False)


def _nlm_file_url(location: str) -> bool:
    """Whether `location` is the URL of one of NLM's release files (which NLM publishes
    with a `.md5` beside it)."""
    parts = urlsplit(location)
    name = parts.path.rsplit("/", 1)[-1]
    return parts.scheme in ("http", "https") and bool(settings.UPDATE_FILE.match(name))


def _listing_url(location: str) -> bool:
    """Whether `location` is the URL of a folder listing (NLM's `.../pubmed/baseline/`)."""
    parts = urlsplit(location)
    return parts.scheme in ("http", "https") and parts.path.endswith("/")


def _listed_not_landed(page_url: str, ledger: BulkLedger) -> list[str]:
    """The URLs of every release file the listing at `page_url` links that has not landed,
    oldest first (by year and number): a bulk load from NLM's baseline folder lands the
    whole baseline, and a rerun only what is missing (nothing is downloaded again)."""
    found = releases(
        PublisherClient(settings.SOURCE),
        page_url,
        pattern=settings.UPDATE_FILE,
        recognise=_update_file_of,
    )
    chosen = not_landed(found, lambda listed: ledger.has_landed(f"{listed.name}.xml"))
    log.info(
        "%s: %d of the %d release files %s links are not landed",
        settings.SOURCE,
        len(chosen),
        len(found),
        page_url,
    )
    return [url for listed in chosen for url in listed.urls]


def _checked_downloads(
    urls: Iterable[str], folder: Path, ledger: BulkLedger
) -> Iterator[Path | MalformedInput]:
    """Each of NLM's files at `urls` downloaded (one at a time, when the one before has
    landed) and checked against the `.md5` NLM publishes beside it.

    A file whose MD5 is not the one NLM states is not landed nor remembered: its download
    is deleted and the error yielded instead, and the files after it are not asked for,
    so the next run downloads it again and the files still land in number order. A file
    without a `.md5` (404), or whose `.md5` states no digest for it, lands unverified
    with a warning note."""
    client = PublisherClient(settings.SOURCE)
    for url in urls:
        path = resolve_location(url, source=settings.SOURCE, download_dir=folder)
        name = urlsplit(url).path.rsplit("/", 1)[-1]
        shown = PublisherClient.scrub_url(url)
        answer = client.get(url + ".md5", what=f"the checksum of {name}", accept=(404,))
        stated = None if answer.status_code == 404 else published_md5(answer.text, name)
        if stated is None:
            why = (
                f"NLM publishes no {name}.md5 beside it (404)"
                if answer.status_code == 404
                else f"its {name}.md5 states no MD5 of {name} ({answer.text.strip()[:80]!r})"
            )
            note = f"{shown}: landed unverified: {why}"
            if note not in ledger.account.notes:  # a file is checked in each window it is in
                log.warning("%s: %s", settings.SOURCE, note)
            ledger.account.warn(note)
            yield path
            continue
        found = md5_of(path)
        if found != stated:
            discard_download(path)
            yield MalformedInput(
                settings.SOURCE,
                shown,
                f"its MD5 is {found}, but NLM's {name}.md5 states {stated}: a damaged "
                "download (or a file NLM replaced); not landed, the next run downloads it "
                "again, and the files after it wait",
            )
            return
        log.info("%s: %s matches NLM's %s.md5", settings.SOURCE, name, name)
        yield path


def _new_update_files(page_url: str, ledger: BulkLedger) -> list[str]:
    """The URLs of the update files NLM's listing links that are newer (by year and number)
    than the newest release file landed, oldest first; none landed yet, the newest listed
    only (the baseline and the year's earlier update files are a bulk load)."""
    found = releases(
        PublisherClient(settings.SOURCE),
        page_url,
        pattern=settings.UPDATE_FILE,
        recognise=_update_file_of,
    )
    landed = _newest_landed(ledger)
    if landed is None:
        chosen = [newest(found)]
        log.warning(
            "%s: no release file has landed yet: landing only the newest update file %s "
            "listed on %s; the baseline and the earlier update files come from a bulk load "
            "(medmirror refresh --source pubmed --bulk FOLDER)",
            settings.SOURCE,
            chosen[0].name,
            page_url,
        )
    else:
        chosen = not_landed(found, lambda update: update.order <= landed)
        newest_name = f"pubmed{landed[0]:02d}n{landed[1]:04d}"
        if chosen:
            log.info(
                "%s: %d new update files on %s after %s: %s",
                settings.SOURCE,
                len(chosen),
                page_url,
                newest_name,
                ", ".join(update.name for update in chosen),
            )
        else:
            log.info(
                "%s: nothing new on %s: its newest update file, %s, is not newer than %s, "
                "landed already",
                settings.SOURCE,
                page_url,
                newest(found).name,
                newest_name,
            )
    return [url for update in chosen for url in update.urls]


def _update_file_of(named: re.Match[str]) -> tuple[str, tuple[int, int]]:
    year, number = int(named.group("year")), int(named.group("number"))
    return f"pubmed{year:02d}n{number:04d}", (year, number)


def _newest_landed(ledger: BulkLedger) -> tuple[int, int] | None:
    """The (year, number) of the newest numbered release file the ledger holds."""
    numbers = [
        (int(named.group("year")), int(named.group("number")))
        for key in ledger.landed
        if (named := settings.NUMBERED_FILE.match(key))
    ]
    return max(numbers, default=None)


def _not_a_release_file(member: BulkMember, *, given_alone: bool) -> str | None:
    """Why a file is not a PubMed release file, None when it is one.

    A release file is a `PubmedArticleSet` document (the pre-2017 `MedlineCitationSet`
    too, to be rejected as a format this source does not read), by its root element. In
    a folder or zip, such a document lands when it is named as NLM names its release
    files (`pubmed26n0001.xml.gz`, `medline16n0902.xml.gz`): E-utilities answers have the
    same root, and a folder of them beside a release is not landed unasked (give such a
    file alone to land it). A file whose first bytes hold no root (empty, not XML) but
    which is named as NLM's is one, to be rejected with what is wrong when it is read.
    """
    named = bool(BULK_FILE.fullmatch(re.split(r"[/\\]", member.name)[-1]))
    root = xml_root(peek(member))
    if root is None:
        return None if named or given_alone else "not an XML document"
    if root.tag not in RELEASE_ROOTS:
        return f"not a PubmedArticleSet document (its root is <{root.tag}>)"
    if not (named or given_alone):
        return (
            f"a {root.tag} not named as NLM names its release files (pubmed26n0001.xml.gz): "
            "an E-utilities answer? Give it alone to land it"
        )
    return None


def _to_read(
    members: Iterator[BulkMember | MalformedInput], ledger: BulkLedger, *, alone: bool
) -> Iterator[tuple[BulkMember, str] | tuple[MalformedInput, None]]:
    """The offered files to read, with their ledger keys, in order, and each damaged
    download; every other file is accounted for as it is passed (landed before, not a
    release file, rejected before)."""
    for member in members:
        if isinstance(member, MalformedInput):
            yield member, None
            continue
        key = bulk_file_key(member.name)
        if member.problem is None:
            if ledger.has_landed(key):  # known by its name: not opened again
                ledger.already_landed(member, key)
                continue
            why = _not_a_release_file(member, given_alone=alone)
            if why:
                ledger.not_release_file(member, why)
                continue
        if ledger.was_rejected(member):
            continue
        yield member, key


def parse_file(member: BulkMember, out: Path) -> Parsed:
    """Every row of a release file (`_item_rows`) into the Arrow IPC file `out`, for a
    parse worker (`extract.parallel`): batches end with an item, each row names its item,
    and a file broken halfway keeps the rows before the fault and says what it is."""
    writer = ParsedWriter(out, ARTICLES.schema)
    items: list[int] = []  # the item of each row batched, until written
    read = 0  # items begun
    problem = None

    def item_rows() -> Iterator[list[dict[str, Any]]]:
        nonlocal read, problem
        try:
            with member.open() as stream:
                for position, item in enumerate(iter_items(stream, where=member.uri)):
                    read = position + 1
                    rows = _item_rows(item, member.uri, position)
                    items.extend([position] * len(rows))
                    yield rows  # one item: its rows are in one batch
        except MalformedInput as bad:
            problem = bad.problem

    try:
        for table in batches(item_rows(), ARTICLES):
            writer.write(table, items[: table.num_rows])
            del items[: table.num_rows]
    finally:
        writer.close()
    return Parsed(member.uri, str(out), rows=writer.rows, items=read, problem=problem)


def _item_rows(item: Any, uri: str, position: int) -> list[dict[str, Any]]:
    """The landing rows of one item of a release file: an article's, a deletion's (one
    per PMID), none for a book chapter (PubmedBookArticle: not an article, not landed)."""
    if item.tag == ARTICLE:
        try:
            return [article_row(item, source_uri=uri)]
        except MalformedInput as bad:  # the file stops here, like broken XML
            raise MalformedInput(
                settings.SOURCE,
                uri,
                f"item {position + 1} (line {item.sourceline}): {bad.problem}",
            ) from None
    if item.tag == DELETION:
        return deletion_rows(item, source_uri=uri)
    return []


def _legacy_keys(state: dict[str, Any]) -> list[str]:
    """The files the source's own ledger landed before the shared one, as ledger keys:
    NLM's numbered names kept as runs of numbers (`{"runs": {"pubmed26n####.xml":
    [[1, 1400]]}, "names": [...]}`), expanded. Its last release signature and the files
    it passed over are not needed any more."""
    state.pop("landed_release", None)
    landed = state.get("landed_files")
    if not isinstance(landed, dict) or not (
        isinstance(landed.get("runs"), dict) or isinstance(landed.get("names"), list)
    ):
        return []
    state.pop("landed_files")
    keys = list(landed.get("names") or [])
    for pattern, runs in (landed.get("runs") or {}).items():
        for first, last in runs:
            keys += [pattern.replace("####", f"{number:04d}") for number in range(first, last + 1)]
    return keys


class _BulkWindow:
    """The rows of one bulk window (batched into Arrow tables by `batches`): counted, and
    the newest DateRevised they hold kept in the resource state (the API starts after it)."""

    def __init__(self, state: dict[str, Any], size: int) -> None:
        self.state = state
        self.size = max(size, 1)
        self.rows = 0
        self.holds_rows = False  # rows or rejects of a file: the window ends with that file
        self.full = False
        newest = state.get("newest_revised")
        self.newest = date.fromisoformat(newest) if newest else None

    def read(self, member: BulkMember, progress: dict[str, Any], *, skip: int) -> Iterator[Any]:
        """The rows of `member` after its first `skip` items, until the window is full."""
        if member.problem:
            raise MalformedInput(settings.SOURCE, member.uri, member.problem)
        with member.open() as stream:
            for position, item in enumerate(iter_items(stream, where=member.uri)):
                if position < skip:
                    continue
                for row in _item_rows(item, member.uri, position):
                    self._count(row)
                    yield row
                progress["items"] = position + 1
                if self.rows >= self.size:
                    self.full = True
                    return

    def read_parsed(self, parsed: Parsed, progress: dict[str, Any], *, skip: int) -> Iterator[Any]:
        """What `read` yields, from a file a parse worker parsed (`parse_file`): its
        rows after its first `skip` items, until the window is full (after an item, as
        `read`), then the problem the file stopped at, if any."""
        for batch in parsed.batches():
            items = batch.column(ITEM)
            if skip:
                batch = batch.filter(pc.greater_equal(items, skip))
                items = batch.column(ITEM)
            if not batch.num_rows:
                continue
            room = self.size - self.rows
            if batch.num_rows >= room:  # full within this batch, after the item of row room
                last = items[room - 1].as_py()
                end = pc.sum(pc.less_equal(items, last).cast(pa.int64())).as_py()
                yield from self._add_table(batch.slice(0, end))
                progress["items"] = last + 1
                self.full = True
                return
            yield from self._add_table(batch)
        progress["items"] = parsed.items
        if parsed.problem is not None:
            raise MalformedInput(settings.SOURCE, parsed.uri, parsed.problem)

    def _add_table(self, batch: pa.RecordBatch) -> Iterator[Any]:
        table = pa.Table.from_batches([batch]).drop_columns([ITEM])
        self.rows += table.num_rows
        self.holds_rows = True
        revised = pc.max(table.column("date_revised")).as_py()
        if revised and (self.newest is None or revised > self.newest):
            self.newest = revised
        yield to_table(table, ARTICLES)

    def _count(self, row: dict[str, Any]) -> None:
        self.rows += 1
        self.holds_rows = True
        revised = row["date_revised"]
        if revised and (self.newest is None or revised > self.newest):
            self.newest = revised

    def close(self, progress: dict[str, Any] | None, *, more: bool) -> None:
        """Commit point: what the window holds, and where the next one starts."""
        if self.newest:
            self.state["newest_revised"] = self.newest.isoformat()
        if progress is None:
            self.state.pop("progress", None)
        else:
            self.state["progress"] = progress
        self.state[MORE_WINDOWS] = more


SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=pubmed,
    raw_tables=(ARTICLES,),
    status_table=ARTICLES.name,
    cursor_column="date_revised",
    marts=("pubmed_articles", "article_authors", "article_mesh_terms", "article_chemicals"),
    samples=SAMPLES_DIR / "pubmed",
    search=SearchExample(
        mart="pubmed_articles",
        query="chronic kidney disease",
        shown=("pmid", "title", "journal_abbreviation", "publication_year"),
    ),
)
