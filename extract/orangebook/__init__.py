"""FDA Orange Book: approved drug products, their patents and exclusivities.

The Orange Book has no API. FDA publishes it as a monthly zip of three tilde-delimited
text files, each a complete snapshot; the current one is always at the same URL.

One resource, `release_files`, reads a release (FDA's current-release URL by default,
or with `bulk_location` a zip, folder or file the site has, or the URL of one) and lands
each file in its raw table, one window per file:

- `products.txt` -> `raw_orangebook.products` (key `appl_type`, `appl_no`, `product_no`;
  `approval_date` as a date for `medmirror status`)
- `patent.txt` -> `raw_orangebook.patents`
- `exclusivity.txt` -> `raw_orangebook.exclusivities`

Every row carries `release`, when the release was made (the newest file time in it), so
dbt keeps the rows of each table's latest complete release: a product absent from the
newest release is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import dlt
from dlt.sources import DltResource

from extract.bulk import BulkLedger, BulkMember, resolve_location, signature
from extract.errors import MalformedInput
from extract.landing import MORE_WINDOWS, reject, to_table
from extract.orangebook import settings
from extract.orangebook.helpers import (
    RELEASE_FILES,
    ReleaseFile,
    landing_table,
    read_release_file,
    release_file_of,
    release_time,
)
from extract.spec import SearchExample, SourceSpec
from medmirror.settings import SAMPLES_DIR

log = logging.getLogger(__name__)


@dlt.source(name=settings.SOURCE)
def orangebook(
    download_dir: str,
    release_url: str = settings.RELEASE_URL,
    bulk_location: str | None = None,
) -> DltResource:
    """The current release from `release_url`, or the release at `bulk_location`; a URL
    is downloaded into `download_dir`."""
    return release_files(bulk_location or release_url, download_dir=download_dir)


# No `columns` here: it lands four tables, each item bound to its own by `to_table`.
@dlt.resource(name="release_files", write_disposition="append")
def release_files(location: str, download_dir: str) -> Iterator[Any]:
    """Every file of the release at `location`, one window (and load) per file.

    A release is a complete snapshot: each of its files is landed once (`BulkLedger`, keyed
    by the file's table and the release: when it was made and its signature, the names,
    sizes and CRCs of its files), so a release identical to one landed lands nothing and a
    killed run resumes after the last committed file. The files are recognised by their
    tilde-delimited header line, whatever they are named; every other file offered is
    listed as not a release file. A file that cannot be read is recorded in
    `raw_orangebook.rejects` with where it broke, a row with the wrong number of fields
    likewise with its line; the rest of the release lands.
    """
    state = dlt.current.resource_state()
    ledger = BulkLedger(settings.SOURCE, state)
    progress = state.get("snapshot")
    starting = not progress or progress.get("location") != str(location)
    # A URL serves whatever release is current: fetched again for every new release,
    # reused while one is in progress.
    path = resolve_location(
        location,
        source=settings.SOURCE,
        download_dir=Path(download_dir),
        name=settings.DOWNLOAD_NAME,
        refetch=starting,
    )
    release = signature(path, source=settings.SOURCE, suffixes=settings.RELEASE_SUFFIXES)
    if not starting and progress.get("signature") != release:
        log.warning("%s: %s changed while it was landed, starting again", settings.SOURCE, path)
        starting = True
    if starting:
        made = release_time(
            member for member, file in _offered(ledger, path, account=False) if file
        ) or datetime.now().replace(microsecond=0)
        progress = {"location": str(location), "signature": release, "release": made.isoformat()}
    made = datetime.fromisoformat(progress["release"])
    _adopt_legacy_state(state, ledger, release, made)
    state[MORE_WINDOWS] = False
    landed_one = recognised = False
    for member, release_file in _offered(ledger, path, account=True):
        if member.problem is None and release_file is None:
            continue  # not a release file (accounted as such)
        recognised = True
        key = _key(release_file, made, release)
        if key and ledger.has_landed(key):
            ledger.already_landed(member, key)
            continue
        if ledger.was_rejected(member):
            continue
        if landed_one:  # another file follows: commit this window first
            state["snapshot"] = progress
            state[MORE_WINDOWS] = True
            return
        landed_one = True
        yield from _land_file(member, release_file, key, made, ledger)
    if not recognised:
        yield reject(
            MalformedInput(
                settings.SOURCE,
                str(path),
                "holds none of " + ", ".join(file.file_name for file in RELEASE_FILES),
            )
        )
    state.pop("snapshot", None)


def _offered(
    ledger: BulkLedger, path: Path, *, account: bool
) -> Iterator[tuple[BulkMember, ReleaseFile | None]]:
    """Every file offered at `path` with the release file it is (by its header line; None
    for any other file, accounted as not a release file when `account`)."""
    for member in ledger.offered(path):
        release_file = release_file_of(member) if member.problem is None else None
        if member.problem is None and release_file is None and account:
            ledger.not_release_file(
                member, "no Orange Book header line (products, patent or exclusivity)"
            )
        yield member, release_file


def _key(release_file: ReleaseFile | None, made: datetime, release: str) -> str | None:
    """A file of a release in the ledger: its table, when the release was made and the
    start of its signature (`products 2024-05-10T09:33:12 3fa8c1d2e4b5`)."""
    if release_file is None:
        return None
    return f"{release_file.table} {made.isoformat()} {release[:12]}"


def _land_file(
    member: BulkMember,
    release_file: ReleaseFile | None,
    key: str | None,
    release: datetime,
    ledger: BulkLedger,
) -> Iterator[Any]:
    """The landing rows of one file and its rejects, or one reject for the whole file."""
    try:
        if release_file is None or key is None:  # an archive that cannot be read at all
            raise MalformedInput(settings.SOURCE, member.uri, member.problem or "unreadable")
        parsed = read_release_file(member, release_file)
    except MalformedInput as bad:
        ledger.reject(member, bad)
        yield reject(bad)
        return
    for row in parsed.ragged:
        yield reject(MalformedInput(settings.SOURCE, member.uri, row.problem()))
    table = landing_table(parsed, release_file, source_uri=member.uri, release=release)
    log.info("%s: %d rows of %s", settings.SOURCE, table.num_rows, member.uri)
    yield to_table(table, release_file.raw_table)
    ledger.landed_file(member, key, table.num_rows)


def _adopt_legacy_state(
    state: dict[str, Any], ledger: BulkLedger, release: str, made: datetime
) -> None:
    """The release the source's own ledger last landed (its signature) stays landed when it
    is the one offered now. A release an older medmirror was landing when it stopped
    lands again whole (dbt keeps the newest landing of each release)."""
    if state.get("landed_release") == release:
        ledger.adopt(_key(file, made, release) or "" for file in RELEASE_FILES)
    state.pop("landed_release", None)


SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=orangebook,  # without a location: FDA's current monthly release
    cadence="monthly",
    raw_tables=tuple(file.raw_table for file in RELEASE_FILES),
    status_table="products",
    cursor_column="approval_date",
    marts=("orange_book_products", "orange_book_patents", "orange_book_exclusivities"),
    samples=SAMPLES_DIR / "orangebook",
    search=SearchExample(
        mart="orange_book_products",
        query="atorvastatin",
        shown=("product_id", "trade_name", "applicant", "strength", "marketing_status"),
    ),
)
