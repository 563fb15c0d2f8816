"""ClinicalTrials.gov: every registered study, from API v2 or the full JSON download.

Resources, all landing `raw_clinicaltrials.studies` (key `nct_id`, cursor
`last_update_post_date`):

- `studies`: `GET /api/v2/studies` paged by `nextPageToken`, incremental on
  `LastUpdatePostDate` with a one-day overlap, committed one update-date window at a time.
- `studies_bulk`: a folder or zip of study JSON documents (ClinicalTrials.gov's full
  download, or saved API pages), from a path or URL, committed every N studies.
- `studies_resync`: re-asks the API for a batch of stored NCT ids and lands a deletion
  notice for each study it no longer returns.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Generator, Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.sources import DltResource

from extract.bulk import BulkLedger, BulkMember, peek, resolve_location, signature
from extract.clinicaltrials import settings
from extract.clinicaltrials.helpers import (
    STUDIES,
    api_date_filter,
    decode_utf8,
    deletion_row,
    is_study_document,
    nct_id_of,
    parse_json,
    stream_page,
    studies_in_document,
    study_row,
)
from extract.errors import MalformedInput
from extract.http import PublisherClient
from extract.landing import MORE_WINDOWS, batches, reject
from extract.limits import DocumentTooLarge
from extract.publication import Publication, record_publication
from extract.spec import SearchExample, SourceSpec
from medmirror.settings import SAMPLES_DIR

log = logging.getLogger(__name__)

TABLE = STUDIES.name
HEAD_BYTES = 4096  # what tells a study or a page of studies: its first key
# What a release signature covers (as before the shared ledger: an upgrade finds the release
# it landed last).
BULK_SUFFIXES = (".json",)


@dlt.source(name=settings.SOURCE)
def clinicaltrials(
    api_url: str = settings.API_URL,
    page_size: int = settings.PAGE_SIZE,
    start_date: str = settings.START_DATE.isoformat(),
    window_days: int = settings.WINDOW_DAYS,
    bulk_location: str | None = None,
    bulk_studies_per_window: int = settings.BULK_STUDIES_PER_WINDOW,
    download_dir: str | None = None,
    resync_batch: int | None = settings.RESYNC_BATCH,
    recheck_days: int = settings.RECHECK_DAYS,
) -> list[DltResource]:
    """The API resources, or with `bulk_location` the bulk resource only."""
    if bulk_location:
        return [
            studies_bulk(
                bulk_location,
                studies_per_window=bulk_studies_per_window,
                download_dir=download_dir,
            )
        ]
    api = dict(api_url=api_url, page_size=page_size)
    return [
        studies(start_date=start_date, window_days=window_days, **api),
        studies_resync(batch=resync_batch, recheck_days=recheck_days, **api),
    ]


@dlt.resource(name="studies", table_name=TABLE, write_disposition="append", columns=STUDIES.columns)
def studies(
    updated: dlt.sources.incremental[date] = dlt.sources.incremental(
        "last_update_post_date",
        lag=settings.OVERLAP_DAYS,
        on_cursor_value_missing="include",
    ),
    api_url: str = settings.API_URL,
    page_size: int = settings.PAGE_SIZE,
    start_date: str = settings.START_DATE.isoformat(),
    window_days: int = settings.WINDOW_DAYS,
) -> Iterator[pa.Table]:
    """Studies last updated in the next window [start, start + window_days] (or up to now).

    The window starts at the cursor minus the one-day overlap, or where the previous
    closed window ended when it found nothing newer.
    """
    state = dlt.current.resource_state()
    start = updated.start_value or date.fromisoformat(start_date)
    searched = state.get("searched_through")
    if searched:
        start = max(start, date.fromisoformat(searched) - timedelta(days=settings.OVERLAP_DAYS))
    end: date | None = start + timedelta(days=window_days)
    today = date.today()
    if end >= today:
        end = None  # the last window is open-ended: everything up to now
    client = PublisherClient(settings.SOURCE, api_urls=(api_url,))
    params = {
        "format": "json",
        "pageSize": page_size,
        "filter.advanced": api_date_filter(start, end),
        "sort": "LastUpdatePostDate:asc",
    }
    if end is None:  # the publisher's count of what the open window holds, on page 1
        params["countTotal"] = "true"
    log.info("%s: studies updated from %s to %s", settings.SOURCE, start, end or "now")
    page = 0
    landed = 0
    total = None
    while True:
        page += 1
        what = f"page {page} of studies updated {start} to {end or 'now'}"
        document = client.get_json(api_url, params=params, what=what)
        token = document.get("nextPageToken") if isinstance(document, dict) else None
        if page == 1 and isinstance(document, dict):
            total = document.get("totalCount")
            params.pop("countTotal", None)
        rows = (
            study_row(study, source_uri=api_url, where=what)
            for study in studies_in_document(document, where=what)
        )
        for table in batches(rows, STUDIES, size=max(page_size, 1)):  # a page, one batch
            landed += table.num_rows
            yield table
        log.info("%s: %s, %d studies so far", settings.SOURCE, what, landed)
        if not token:
            break
        params["pageToken"] = token
    # Closed windows are searched through their end even when they found nothing; an
    # open one only through its start: the next run asks again from the cursor.
    state["searched_through"] = (end or start).isoformat()
    state[MORE_WINDOWS] = end is not None
    if end is None and isinstance(total, int):
        record_publication(
            state,
            Publication(
                as_of=None,
                total=total,
                counted=f"studies last updated {start} or later",
                how=f"ClinicalTrials.gov totalCount of {api_url}?filter.advanced="
                f"{api_date_filter(start, None)}",
                since=start,
            ),
        )


# No `columns` here: it lands two tables, each item bound to its own by `to_table`.
@dlt.resource(name="studies_bulk", table_name=TABLE, write_disposition="append")
def studies_bulk(
    location: str,
    studies_per_window: int = settings.BULK_STUDIES_PER_WINDOW,
    download_dir: str | None = None,
) -> Iterator[pa.Table]:
    """Every study document under `location` updated since the previous complete snapshot.

    The cursor is kept per snapshot rather than with `dlt.sources.incremental`: the files
    of a snapshot are not in date order, so the cutoff must stay fixed until the whole
    snapshot has landed (windows of it are committed on the way, and a rerun continues
    after the last committed member). A study older than the cutoff is skipped only when
    it has landed before: one rejected from an earlier snapshot lands once it is storable.
    A release identical to the last one landed is skipped whole. A document that cannot
    be read or parsed is recorded in `raw_clinicaltrials.rejects` and the rest of the
    release lands.
    """
    state = dlt.current.resource_state()
    since = state.get("since")
    cutoff = date.fromisoformat(since) - timedelta(days=settings.OVERLAP_DAYS) if since else None
    path = resolve_location(
        location, source=settings.SOURCE, download_dir=Path(download_dir or ".")
    )
    ledger = BulkLedger(settings.SOURCE, state)
    progress = state.get("snapshot") or {}
    # A snapshot an older medmirror was landing counted only `.json` members: start it again
    # (raw may then hold some studies twice; dbt keeps one version of each).
    if progress.get("location") != str(location) or "counts_every_file" not in progress:
        release = signature(path, source=settings.SOURCE, suffixes=BULK_SUFFIXES)
        progress = {
            "location": str(location),
            "done": 0,
            "newest": since,
            "release": release,
            "counts_every_file": True,
        }
    key = _release_key(progress["release"])
    if state.get("landed_release"):  # the release the old ledger landed last
        ledger.adopt([_release_key(state.pop("landed_release"))])
    if ledger.has_landed(key) and progress["done"] == 0:
        log.info("%s: %s is unchanged since it was landed", settings.SOURCE, location)
        for member in ledger.offered(path):
            if ledger.was_rejected(member):
                continue
            if member.problem is None and not _names_studies(peek(member, HEAD_BYTES)):
                ledger.not_release_file(member, "neither a study nor a page of studies")
            else:
                ledger.already_landed(member, key)
        state.pop("snapshot", None)
        state[MORE_WINDOWS] = False
        return
    full = yield from batches(
        _snapshot_items(ledger, path, progress, cutoff, studies_per_window), STUDIES, bind=True
    )
    if full:
        state["snapshot"] = progress
        state[MORE_WINDOWS] = True
        return
    state["since"] = progress["newest"]
    # The whole snapshot is the unit the ledger knows (its files are too many to list).
    ledger.landed[key] = str(location)
    state.pop("snapshot", None)
    state[MORE_WINDOWS] = False


def _snapshot_items(
    ledger: BulkLedger,
    path: Path,
    progress: dict[str, Any],
    cutoff: date | None,
    studies_per_window: int,
) -> Generator[Any, None, bool]:
    """The rows of the snapshot's members after those earlier windows landed, and a
    reject for each member that cannot be read, each member accounted for in `ledger`;
    returns whether the window is full (it ends after a member)."""
    in_window = 0
    landed_before: set[str] | None = None  # read when the first study older than the cutoff comes
    for position, member in enumerate(ledger.offered(path)):
        if position < progress["done"]:
            ledger.nothing_new(member, "landed in an earlier window of this snapshot")
            continue
        progress["done"] += 1
        if ledger.was_rejected(member):
            continue
        try:
            rows = _member_rows(member)
        except MalformedInput as bad:
            ledger.reject(member, bad)
            yield reject(bad)
            continue
        if rows is None:
            ledger.not_release_file(member, "neither a study nor a page of studies (JSON)")
            continue
        landed = 0
        for row in rows:
            updated = row["last_update_post_date"]
            if cutoff and updated and updated < cutoff:
                if landed_before is None:
                    landed_before = _landed_nct_ids()
                if row["nct_id"] in landed_before:
                    continue  # unchanged since an earlier snapshot landed it
            if updated and (progress["newest"] is None or updated.isoformat() > progress["newest"]):
                progress["newest"] = updated.isoformat()
            in_window += 1
            landed += 1
            yield row
        if landed:
            ledger.landed_part(member, landed)
        else:
            ledger.nothing_new(member, "its studies are unchanged since an earlier snapshot")
        if in_window >= studies_per_window:
            log.info("%s: committing bulk window ending at %s", settings.SOURCE, member.uri)
            return True
    return False


def _release_key(release: str) -> str:
    """A snapshot in the ledger: the start of its signature (names, sizes, CRCs)."""
    return f"snapshot {release[:16]}"


def _looks_like_json(member: BulkMember, head: bytes) -> bool:
    """Whether a file claims to be a JSON document: it starts like one, or is named so (an
    empty or unreadable file named `.json` is a release file, rejected when read)."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return start in (b"{", b"[") or member.name.removesuffix(".gz").endswith(".json")


def _names_studies(head: bytes) -> bool:
    """Whether a file's first bytes are those of a study or a page of studies (what an
    unchanged release is told by, without parsing every document again)."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return start == b"{" and (b'"protocolSection"' in head or b'"studies"' in head)


def _member_rows(member: BulkMember) -> Iterable[dict] | None:
    """The landing rows of one bulk document (all or nothing: a bad document is rejected);
    None when it is not a ClinicalTrials.gov document (not JSON, or JSON of another kind).

    A document up to `WHOLE_DOCUMENT_BYTES` (every single study) is read whole; a larger
    one (a saved page of many studies) is checked to its end, then streamed study by
    study, so memory stays flat whatever its size."""
    try:
        content = member.read(settings.SOURCE, limit=settings.WHOLE_DOCUMENT_BYTES)
    except DocumentTooLarge:
        if not _names_studies(peek(member)):
            return None
        studies = 0
        try:
            for study in stream_page(member.open, where=member.uri):  # all or nothing
                study_row(study, source_uri=member.uri, where=member.uri)
                studies += 1
        except (OSError, EOFError, zlib.error) as broken:  # a broken or refused stream
            raise MalformedInput(settings.SOURCE, member.uri, f"cannot read: {broken}") from None
        log.info("%s: %s streamed, %d studies", settings.SOURCE, member.uri, studies)
        return (
            study_row(study, source_uri=member.uri, where=member.uri)
            for study in stream_page(member.open, where=member.uri)
        )
    if not _looks_like_json(member, content[:1024]):
        return None
    text = decode_utf8(content, where=member.uri)
    document = parse_json(text, where=member.uri)
    if not is_study_document(document):
        return None
    single = isinstance(document, dict) and "studies" not in document
    return [
        study_row(study, source_uri=member.uri, where=member.uri, text=text if single else None)
        for study in studies_in_document(document, where=member.uri)
    ]


@dlt.resource(
    name="studies_resync", table_name=TABLE, write_disposition="append", columns=STUDIES.columns
)
def studies_resync(
    api_url: str = settings.API_URL,
    page_size: int = settings.PAGE_SIZE,
    batch: int | None = settings.RESYNC_BATCH,
    recheck_days: int = settings.RECHECK_DAYS,
) -> Iterator[pa.Table]:
    """Deletion notices for stored studies the API no longer returns.

    Every stored study is re-checked within `recheck_days` days: a cycle walks the stored
    NCT ids in id order (its cursor is the last id checked, `checked_through`), and each
    run checks the remaining ids of the cycle divided by the days the cycle has left
    (all of them once it has one day or less), at most `batch` when one is set (0: none
    this run). A cycle
    starts again from the first id after the last one.
    """
    state = dlt.current.resource_state()
    today = date.today()
    after = state.get("checked_through", "")
    remaining = _stored_nct_ids(after=after, limit=None)
    if not remaining and after:
        after, remaining = "", _stored_nct_ids(after="", limit=None)
    if not after or "cycle_started" not in state:
        state["cycle_started"] = today.isoformat()
    if not remaining:
        return
    elapsed = (today - date.fromisoformat(state["cycle_started"])).days
    days_left = max(recheck_days - elapsed, 1)
    size = -(-len(remaining) // days_left)  # ceiling: the cycle ends within its days
    stored = remaining[: size if batch is None else min(size, batch)]
    if not stored:  # a batch of 0 turns the re-check off
        return
    log.info(
        "%s: re-checking %d of the %d studies left in this cycle (%d days left)",
        settings.SOURCE,
        len(stored),
        len(remaining),
        days_left,
    )
    client = PublisherClient(settings.SOURCE, api_urls=(api_url,))
    yield from batches(_deletions(client, api_url, stored, page_size), STUDIES)
    state["checked_through"] = stored[-1]


def _deletions(
    client: PublisherClient, api_url: str, stored: list[str], page_size: int
) -> Iterator[dict[str, Any]]:
    """A deletion row for each of the `stored` NCT ids the API no longer returns."""
    for first in range(0, len(stored), settings.RESYNC_IDS_PER_REQUEST):
        chunk = stored[first : first + settings.RESYNC_IDS_PER_REQUEST]
        what = f"re-sync of {chunk[0]}..{chunk[-1]}"
        document = client.get_json(
            api_url,
            params={
                "format": "json",
                "filter.ids": ",".join(chunk),
                "fields": "NCTId",
                "pageSize": max(page_size, len(chunk)),
            },
            what=what,
        )
        returned = {nct_id_of(study) for study in studies_in_document(document, where=what)}
        missing = [nct_id for nct_id in chunk if nct_id not in returned]
        if len(chunk) >= 10 and len(missing) > settings.RESYNC_MAX_MISSING_SHARE * len(chunk):
            raise MalformedInput(
                settings.SOURCE,
                what,
                f"{len(missing)} of {len(chunk)} stored studies missing from the answer: "
                "refusing to record them as deleted",
            )
        for nct_id in missing:
            log.info(
                "%s: %s is no longer published, recording its deletion", settings.SOURCE, nct_id
            )
            yield deletion_row(nct_id, source_uri=f"{api_url}?filter.ids={nct_id}")


def _landed_nct_ids() -> set[str]:
    """Every NCT id raw holds (one query per window of a changed snapshot)."""
    pipeline = dlt.current.pipeline()
    with pipeline.sql_client() as sql:
        table = sql.make_qualified_table_name(TABLE)
        rows = sql.execute_sql(f"select distinct nct_id from {table}")  # noqa: S608
    return {row[0] for row in rows or []}


def _stored_nct_ids(*, after: str, limit: int | None) -> list[str]:
    """Stored NCT ids whose latest landing is not a deletion, in id order, after `after`."""
    pipeline = dlt.current.pipeline()
    try:
        with pipeline.sql_client() as sql:
            if not sql.has_dataset():
                return []
            table = sql.make_qualified_table_name(TABLE)
            rows = sql.execute_sql(
                f"""
                select nct_id from (
                    select distinct on (nct_id) nct_id, deleted
                    from {table}
                    where nct_id > %s
                    order by nct_id, _dlt_load_id desc
                ) as latest
                where not deleted
                order by nct_id
                limit %s
                """,  # noqa: S608 - the table name is dlt's quoted identifier
                after,
                limit,
            )
    except Exception as missing_table:  # the table does not exist before the first load
        if "does not exist" in str(missing_table):
            return []
        raise
    return [row[0] for row in rows or []]


SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=clinicaltrials,
    raw_tables=(STUDIES,),
    status_table=STUDIES.name,
    cursor_column="last_update_post_date",
    marts=(
        "clinical_trials",
        "trial_conditions",
        "trial_interventions",
        "trial_locations",
        "trial_outcomes",
        "trial_articles",
    ),
    samples=SAMPLES_DIR / "clinicaltrials",
    search=SearchExample(
        mart="clinical_trials",
        query="growth hormone",
        shown=("nct_id", "brief_title", "overall_status"),
    ),
)
