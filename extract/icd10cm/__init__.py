"""ICD-10-CM: the diagnosis code set CMS and NCHS publish once a fiscal year.

One resource, `release_files`, reads CMS's release files (by default the newest release
linked from CMS's ICD-10-CM page, `releases_page_url`; the zips in `release_urls` when
that lists any; or with `bulk_location` a zip, folder or file the site has, or the URL of
one) and lands each file of each release once, in its own window:

- the order file (`icd10cm_order_YYYY.txt`, fixed width) -> `raw_icd10cm.order_codes`:
  every category, subcategory and code with its billable flag and both titles;
- the tabular XML (`icd10cm_tabular_YYYY.xml`) -> `raw_icd10cm.tabular_codes`: every
  `diag` with its chapter, section, parent and notes, and the 7th-character codes its
  `sevenChrDef` defines (placeholder `X` up to six characters), billable when it has no
  child code after that expansion.

Key `code` (as CMS writes it, without the dot) and `release_year` (the fiscal year; the
cursor). Every release is kept, so dbt can show what changed between years. The files
landed (release year and kind) are kept in the resource state (`BulkLedger`), committed
with the data: a rerun, or the same release found again at another location, lands
nothing. Either file alone lands a release; the other one, found later, is added to it.
Both files are recognised by their content, whatever CMS named them that year.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import dlt
from dlt.sources import DltResource

from extract.bulk import BulkLedger, BulkMember, resolve_location
from extract.discovery import newest, releases
from extract.errors import MalformedInput
from extract.http import PublisherClient
from extract.icd10cm import settings
from extract.icd10cm.helpers import (
    ORDER,
    TABLES,
    TABULAR,
    file_kind,
    read_order_file,
    read_tabular_file,
    release_year,
)
from extract.landing import MORE_WINDOWS, reject, to_table
from extract.spec import SearchExample, SourceSpec
from medmirror.settings import SAMPLES_DIR

log = logging.getLogger(__name__)


@dlt.source(name=settings.SOURCE)
def icd10cm(
    download_dir: str,
    release_urls: Sequence[str] = settings.RELEASE_URLS,
    releases_page_url: str = settings.RELEASES_PAGE_URL,
    bulk_location: str | None = None,
) -> DltResource:
    """The release files at `bulk_location`, else those at `release_urls`, else the newest
    release linked from `releases_page_url`."""
    locations = [bulk_location] if bulk_location else list(release_urls)
    return release_files(
        locations,
        download_dir=download_dir,
        listing_url=None if locations else releases_page_url,
    )


# No `columns` here: it lands three tables, each item bound to its own by `to_table`.
@dlt.resource(name="release_files", write_disposition="append")
def release_files(
    locations: list[str], download_dir: str, listing_url: str | None = None
) -> Iterator[Any]:
    """Each release file not landed yet, one window (and load) per file.

    Every file offered is accounted for (`BulkLedger`, keyed by release year and kind): the
    order file is recognised by its fixed-width layout and the tabular XML by its root
    element, whatever CMS named them; the index, drug and neoplasm XML, the code lists and
    the addenda are not release files of this source. A file that cannot be read (broken
    XML, an unreadable archive, no release year) is recorded in `raw_icd10cm.rejects` and
    not read again until it changes; an order-file line that is not an entry likewise,
    with its line number. With `listing_url` (the releases page), the newest release that
    page links is read, each of its zips only when its file is not landed yet.
    """
    state = dlt.current.resource_state()
    legacy = _legacy_state(state)
    ledger = BulkLedger(settings.SOURCE, state)
    ledger.adopt(*legacy)
    state[MORE_WINDOWS] = False
    done_one = False
    if listing_url:
        locations = _newest_release(listing_url, ledger)
    for location in locations:
        path = resolve_location(location, source=settings.SOURCE, download_dir=Path(download_dir))
        for member in ledger.offered(path):
            kind = file_kind(member) if not member.problem else None
            if member.problem is None and kind is None:
                ledger.not_release_file(
                    member, "neither laid out as the order file nor a tabular XML"
                )
                continue
            year = release_year(member, kind) if kind else None
            key = _key(year, kind)
            if key and ledger.has_landed(key):
                ledger.already_landed(member, key)
                continue
            if ledger.was_rejected(member):
                continue
            if done_one:  # another file follows: commit this window first
                state[MORE_WINDOWS] = True
                return
            done_one = True
            yield from _land_file(member, kind, year, ledger)


def _newest_release(page_url: str, ledger: BulkLedger) -> list[str]:
    """The zips of the newest release CMS's page links whose file has not landed yet."""
    release = newest(
        releases(PublisherClient(settings.SOURCE), page_url, pattern=settings.RELEASE_ZIP)
    )
    pending = []
    for url in release.urls:
        named = settings.RELEASE_ZIP.search(url.rsplit("/", 1)[-1])
        kind = ORDER if named and "order" in named.group("kind").lower() else TABULAR
        if not ledger.has_landed(_key(int(release.name), kind)):
            pending.append(url)
    log.info(
        "%s: the newest release on %s is %s: %s",
        settings.SOURCE,
        page_url,
        release.name,
        f"{len(pending)} of its zips to read" if pending else "landed already",
    )
    return pending


def _key(year: int | None, kind: str | None) -> str | None:
    """A release file in the ledger: its fiscal year and kind (`2021 order`)."""
    return f"{year} {kind}" if year and kind else None


def _land_file(
    member: BulkMember, kind: str | None, year: int | None, ledger: BulkLedger
) -> Iterator[Any]:
    """The landing rows of one release file and its rejects, or one reject for the file."""
    try:
        if member.problem or kind is None:
            raise MalformedInput(settings.SOURCE, member.uri, member.problem or "unreadable")
        if year is None:
            raise MalformedInput(
                settings.SOURCE,
                member.uri,
                f"an ICD-10-CM {kind} file, but neither its name nor its archive's or "
                "folder's says which release (year) it is",
            )
        read = read_order_file if kind == ORDER else read_tabular_file
        parsed = read(member, year)
    except MalformedInput as bad:
        ledger.reject(member, bad)
        yield reject(bad)
        return
    for problem in parsed.problems:
        yield reject(MalformedInput(settings.SOURCE, member.uri, problem))
    log.info(
        "%s: %d codes of the %s %s file %s", settings.SOURCE, parsed.rows, year, kind, member.uri
    )
    for table in parsed.tables:
        yield to_table(table, TABLES[kind])
    ledger.landed_file(member, _key(year, kind), parsed.rows)


def _legacy_state(state: dict[str, Any]) -> tuple[list[str], list[str]]:
    """What the source's own ledger kept before the shared one (release year -> kinds
    landed, and the rejected files by `identity`): the keys and identities to adopt."""
    landed = state.pop("landed", {})
    keys = [_key(int(year), kind) for year, kinds in landed.items() for kind in kinds]
    return [key for key in keys if key], state.pop("rejected", [])


# An annual release: the monthly run finds the newest release on CMS's page (or reads the
# configured release URLs) and lands it when it is not landed yet.
SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=icd10cm,  # without a location: the newest release on CMS's page
    cadence="monthly",
    raw_tables=tuple(TABLES.values()),
    status_table="order_codes",
    cursor_column="release_year",
    marts=("icd10cm_codes", "icd10cm_code_changes"),
    samples=SAMPLES_DIR / "icd10cm",
    search=SearchExample(
        mart="icd10cm_codes",
        query="tuberculosis",
        shown=("code", "dotted_code", "long_description", "is_billable"),
    ),
)
