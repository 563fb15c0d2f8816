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

import itertools
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import dlt
from dlt.sources import DltResource

from extract.bulk import BulkMember, iter_members, resolve_location, signature
from extract.errors import MalformedInput
from extract.landing import MORE_WINDOWS, reject, to_table
from extract.orangebook import settings
from extract.orangebook.helpers import (
    RELEASE_FILES,
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

    A release is a complete snapshot, so the cursor is the release itself: one identical
    to the last one landed (same signature: names, sizes and CRCs of its files) is
    skipped whole, and a release in progress is kept in the resource state so that a
    killed run resumes after the last committed file. A file that cannot be read is
    recorded in `raw_orangebook.rejects` with where it broke, a row with the wrong number
    of fields likewise with its line; the rest of the release lands.
    """
    state = dlt.current.resource_state()
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
    if not starting and progress["signature"] != release:
        log.warning("%s: %s changed while it was landed, starting again", settings.SOURCE, path)
        starting = True
    if starting:
        if release == state.get("landed_release"):
            log.info("%s: %s is unchanged since it was landed", settings.SOURCE, location)
            state.pop("snapshot", None)
            state[MORE_WINDOWS] = False
            return
        made = release_time(_release_members(path)) or datetime.now().replace(microsecond=0)
        progress = {
            "location": str(location),
            "signature": release,
            "release": made.isoformat(),
            "done": 0,
        }
        log.info("%s: landing the release of %s from %s", settings.SOURCE, made, location)
    landed: BulkMember | None = None
    for member in itertools.islice(_release_members(path), progress["done"], None):
        if landed is not None:  # another file follows: commit this window first
            state["snapshot"] = progress
            state[MORE_WINDOWS] = True
            log.info("%s: committing %s", settings.SOURCE, landed.uri)
            return
        progress["done"] += 1
        yield from _land_file(member, release=datetime.fromisoformat(progress["release"]))
        landed = member
    if landed is None and progress["done"] == 0:
        yield reject(
            MalformedInput(
                settings.SOURCE,
                str(path),
                "holds none of " + ", ".join(file.file_name for file in RELEASE_FILES),
            )
        )
    state["landed_release"] = release
    state.pop("snapshot", None)
    state[MORE_WINDOWS] = False


def _release_members(path: Path) -> Iterator[BulkMember]:
    """The release files at `path` (and any archive that cannot be read), in a stable
    order; other text files are left out."""
    for member in iter_members(path, source=settings.SOURCE, suffixes=settings.RELEASE_SUFFIXES):
        if member.problem or release_file_of(member):
            yield member
        else:
            log.info("%s: %s is not an Orange Book file, skipped", settings.SOURCE, member.uri)


def _land_file(member: BulkMember, *, release: datetime) -> Iterator[Any]:
    """The landing rows of one file and its rejects, or one reject for the whole file."""
    release_file = release_file_of(member)
    try:
        if release_file is None:  # an archive that cannot be read at all
            raise MalformedInput(settings.SOURCE, member.uri, member.problem or "unreadable")
        parsed = read_release_file(member, release_file)
    except MalformedInput as bad:
        yield reject(bad)
        return
    for row in parsed.ragged:
        yield reject(MalformedInput(settings.SOURCE, member.uri, row.problem()))
    table = landing_table(parsed, release_file, source_uri=member.uri, release=release)
    log.info("%s: %d rows of %s", settings.SOURCE, table.num_rows, member.uri)
    yield to_table(table, release_file.raw_table)


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
