"""HCPCS Level II: CMS's alpha-numeric procedure, supply and modifier codes.

One resource, `release_files`, reads CMS's Alpha-Numeric HCPCS file (by default the
newest release linked from CMS's quarterly update page, `releases_page_url`; the zips in
`release_urls` when that lists any; or with `bulk_location` a zip, folder or file the site
has, or the URL of one) and lands the code file of each release once, in its own window:
`HCPCyyyy_CONTR_ANWEB.txt` (fixed width, per the record layout in the same zip) ->
`raw_hcpcs.codes`, one row per code or modifier with its continuation records joined
into one long description, its short description, action code, added, action-effective
and termination dates, and the pricing and coverage fields.

Key `hcpcs_code`, with `release` (`2019`, or `2025-01` for a quarterly file; the cursor)
and `release_year`. Every release is kept. The releases landed are kept in the resource
state, committed with the data: a rerun, or the same release at another location, lands
nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import dlt
from dlt.sources import DltResource

from extract.bulk import BulkLedger, BulkMember, resolve_location
from extract.discovery import Release, newest, releases
from extract.errors import MalformedInput
from extract.hcpcs import settings
from extract.hcpcs.helpers import CODES, MONTHS, is_code_file, read_code_file, release_of
from extract.http import PublisherClient
from extract.landing import MORE_WINDOWS, reject, to_table
from extract.spec import SearchExample, SourceSpec
from medmirror.settings import SAMPLES_DIR

log = logging.getLogger(__name__)


@dlt.source(name=settings.SOURCE)
def hcpcs(
    download_dir: str,
    release_urls: Sequence[str] = settings.RELEASE_URLS,
    releases_page_url: str = settings.RELEASES_PAGE_URL,
    bulk_location: str | None = None,
) -> DltResource:
    """The releases at `bulk_location`, else at `release_urls`, else the newest release
    linked from `releases_page_url`."""
    locations = [bulk_location] if bulk_location else list(release_urls)
    page = None if locations else releases_page_url
    return release_files(locations, download_dir=download_dir, listing_url=page)


@dlt.resource(name="release_files", write_disposition="append")
def release_files(
    locations: list[str], download_dir: str, listing_url: str | None = None
) -> Iterator[Any]:
    """Each release's code file not landed yet, one window (and load) per file.

    Every file offered is accounted for (`BulkLedger`): a code file is recognised by its
    layout, whatever CMS named it that year; the README, processing notes, change lists
    and the Excel twin are not release files. A file that cannot be read, or whose
    release cannot be told, is recorded in `raw_hcpcs.rejects` (and not read again until
    it changes); a line that is not a record likewise, with its line number. With
    `listing_url` (the releases page), the newest release that page links is read when
    not landed yet.
    """
    state = dlt.current.resource_state()
    ledger = BulkLedger(settings.SOURCE, state)
    _adopt_legacy_state(state, ledger)
    state[MORE_WINDOWS] = False
    done_one = False
    if listing_url:
        locations = _newest_release(listing_url, ledger)
    for location in locations:
        path = resolve_location(location, source=settings.SOURCE, download_dir=Path(download_dir))
        for member in ledger.offered(path):
            if member.problem is None and not is_code_file(member):
                ledger.not_release_file(member, "not laid out as HCPCS records")
                continue
            release = release_of(member) if member.problem is None else None
            if release and ledger.has_landed(release[0]):
                ledger.already_landed(member, release[0])
                continue
            if ledger.was_rejected(member):
                continue
            if done_one:  # another release follows: commit this window first
                state[MORE_WINDOWS] = True
                return
            done_one = True
            yield from _land_file(member, release, ledger)


def _newest_release(page_url: str, ledger: BulkLedger) -> list[str]:
    """The zip(s) of the newest release CMS's page links, or none when it has landed."""
    found = newest(
        releases(
            PublisherClient(settings.SOURCE),
            page_url,
            pattern=settings.RELEASE_ZIP,
            recognise=_release_of_zip,
        )
    )
    landed = _landed(found, ledger)
    log.info(
        "%s: the newest release on %s is %s%s",
        settings.SOURCE,
        page_url,
        found.name,
        ": landed already" if landed else "",
    )
    return [] if landed else list(found.urls)


def _release_of_zip(named: re.Match[str]) -> tuple[str, tuple[int, int]]:
    """A zip's release as the ledger names it (`2025-01`, or `2019` for an annual file)
    and its order (year, month; an annual file is its year's January release)."""
    year = int(named.group("year"))
    month = named.group("month")
    if month is None:
        return str(year), (year, 1)
    number = MONTHS[month[:3].upper()]
    return f"{year}-{number:02d}", (year, number)


def _landed(release: Release, ledger: BulkLedger) -> bool:
    """Whether the ledger holds the release, by either name of a January release (CMS
    has put `HCPC2020_JAN_...` in an annual zip, and a year's file in a quarter's)."""
    year = release.order[0]
    names = {release.name} | ({str(year), f"{year}-01"} if release.order[1] == 1 else set())
    return any(ledger.has_landed(name) for name in names)


def _land_file(
    member: BulkMember, release: tuple[str, int] | None, ledger: BulkLedger
) -> Iterator[Any]:
    try:
        if member.problem:
            raise MalformedInput(settings.SOURCE, member.uri, member.problem)
        if release is None:
            raise MalformedInput(
                settings.SOURCE,
                member.uri,
                "an HCPCS code file, but neither its name nor its archive's says which "
                "release (year) it is",
            )
        parsed = read_code_file(member, *release)
    except MalformedInput as bad:
        ledger.reject(member, bad)
        yield reject(bad)
        return
    for problem in parsed.problems:
        yield reject(MalformedInput(settings.SOURCE, member.uri, problem))
    log.info(
        "%s: %d codes (%d records) of release %s from %s",
        settings.SOURCE,
        parsed.codes,
        parsed.records,
        release[0],
        member.uri,
    )
    for table in parsed.tables:
        yield to_table(table, CODES)
    ledger.landed_file(member, release[0], parsed.codes)


def _adopt_legacy_state(state: dict[str, Any], ledger: BulkLedger) -> None:
    """Releases landed before the shared ledger (a list of release names) stay landed, and
    the files it rejected (by `identity`, the same as the shared ledger's) stay rejected."""
    ledger.adopt(state.pop("landed", []), state.pop("rejected", []))


# A quarterly release: the monthly run finds the newest release on CMS's page (or reads the
# configured release URLs) and lands it when it is not landed yet.
SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=hcpcs,  # without a location: the newest release on CMS's page
    cadence="monthly",
    raw_tables=(CODES,),
    status_table=CODES.name,
    cursor_column="release_year",
    marts=("hcpcs_codes",),
    samples=SAMPLES_DIR / "hcpcs",
    search=SearchExample(
        mart="hcpcs_codes",
        query="wheelchair",
        shown=("hcpcs_code", "short_description", "long_description"),
    ),
)
