"""CDC PLACES: model-based county and census tract estimates of chronic disease measures,
from data.cdc.gov's Socrata SODA API.

One resource, `measures`, landing `raw_cdcplaces.measures`: one row per geography
("county", "tract"), data `year`, `locationid` (county or tract FIPS), `measureid`
(DIABETES, OBESITY, BPHIGH, ...) and `datavaluetypeid` (CrdPrv, AgeAdjPrv), the Socrata
row unchanged in `record`. Pages are asked with `$limit`/`$offset` ordered by `:id`,
filtered with `$where` (the years from the cursor on, plus the configured `where`).

Incremental by release: each dataset's `rowsUpdatedAt` (Socrata's view metadata) says
whether CDC published a new release since the last landing; an unchanged dataset is not
asked again. A new release is asked from the newest data year landed (`year >=`, the
cursor, kept per geography in the resource state): a release mixes two BRFSS years, and
the rows of the cursor's year land again with the newer release (dbt keeps the latest
landing). Every `pages_per_window` pages are a window committed with the paging
position, so a killed run resumes at the next page. A row without its key fields goes to
`raw_cdcplaces.rejects` and the rest lands.

The bulk way in: with `bulk_location` (a folder, zip or file, or the URL of one), the
`export_files` resource lands data.cdc.gov's CSV exports of the county or tract dataset
(recognised by their header, whatever their name; see `extract.cdcplaces.exports`) into
the same table, as the documents the API sends: each export once (by its content), every
file offered accounted for, `rows_per_window` rows a window (a killed run resumes at the
next row). A row without its key fields goes to `rejects` with its line.

An app token is optional (`[sources.cdcplaces] api_key` in `.dlt/secrets.toml`): it is
sent as the `X-App-Token` header (or as `$$app_token` with `api_key_header = ""` and
`api_key_param = "$$app_token"`), and Socrata throttles requests without one sooner.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.sources import DltResource

from extract.bulk import BulkLedger, BulkMember, resolve_location
from extract.cdcplaces import settings
from extract.cdcplaces.catalog import newest_releases
from extract.cdcplaces.exports import ExportLayout, content_key, export_layout, read_export
from extract.cdcplaces.helpers import MEASURES, measure_row, socrata_pages, soql_where
from extract.errors import MalformedInput
from extract.http import PublisherClient
from extract.landing import MORE_WINDOWS, batches, reject, to_table
from extract.spec import SourceSpec, TokenGate
from medmirror.settings import SAMPLES_DIR

log = logging.getLogger(__name__)

TABLE = MEASURES.name


@dlt.source(name=settings.SOURCE)
def cdcplaces(
    base_url: str = settings.BASE_URL,
    datasets: dict[str, str] | None = None,
    geographies: list[str] | None = None,
    catalog_url: str = settings.CATALOG_URL,
    catalog_domain: str = settings.CATALOG_DOMAIN,
    catalog_query: str = settings.CATALOG_QUERY,
    page_size: int = settings.PAGE_SIZE,
    pages_per_window: int = settings.PAGES_PER_WINDOW,
    where: str = settings.WHERE,
    start_year: int = settings.START_YEAR,
    download_dir: str | None = None,
    bulk_location: str | None = None,
    rows_per_window: int = settings.ROWS_PER_WINDOW,
) -> DltResource:
    """The PLACES measures of each of `geographies` (county and tract) from the newest
    release the catalog at `catalog_url` lists (`extract.cdcplaces.catalog`), or from the
    configured `datasets` (geography -> dataset id; no catalog read), or the CSV exports at
    `bulk_location` (a URL is downloaded into `download_dir`)."""
    if bulk_location:
        return export_files(
            bulk_location,
            download_dir=download_dir or ".",
            rows_per_window=max(int(rows_per_window), 1),
        )
    return measures(
        base_url=base_url.rstrip("/"),
        datasets=dict(datasets) if datasets else None,
        catalog=Catalog(
            url=catalog_url,
            domain=catalog_domain,
            query=catalog_query,
            geographies=tuple(geographies or settings.GEOGRAPHIES),
        ),
        page_size=int(page_size),
        pages_per_window=max(int(pages_per_window), 1),
        where=where,
        start_year=int(start_year),
    )


@dataclass(frozen=True)
class Catalog:
    """Where the newest PLACES releases are found (`extract.cdcplaces.catalog`)."""

    url: str
    domain: str
    query: str
    geographies: tuple[str, ...]


# No `columns` here: it lands two tables, each item bound to its own by `to_table`.
@dlt.resource(name="measures", table_name=TABLE, write_disposition="append")
def measures(
    base_url: str,
    datasets: dict[str, str] | None,
    catalog: Catalog,
    page_size: int,
    pages_per_window: int,
    where: str,
    start_year: int,
) -> Iterator[Any]:
    """The next window of the first geography with a release not landed yet: the newest
    release the catalog lists, or the configured `datasets`.

    A release is landed once: its dataset id and its `rowsUpdatedAt` are kept per
    geography, so a new release (a new dataset in the catalog, or new rows in the same
    one) is asked from the newest data year landed on."""
    state = dlt.current.resource_state()
    landed: dict[str, dict[str, Any]] = state.setdefault("landed", {})
    paging: dict[str, Any] | None = state.get("paging")
    state[MORE_WINDOWS] = False
    client = PublisherClient(settings.SOURCE, api_urls=(base_url,))
    if not client.api_key:
        log.info(
            "%s: no app token configured (optional): Socrata throttles keyless requests "
            "sooner; one from %s goes in .dlt/secrets.toml [sources.cdcplaces] api_key",
            settings.SOURCE,
            settings.TOKEN_SIGNUP,
        )
    if datasets is None:
        datasets = {
            geography: release.dataset
            for geography, release in newest_releases(
                PublisherClient(settings.SOURCE),  # no app token: not data.cdc.gov's API
                catalog.url,
                domain=catalog.domain,
                query=catalog.query,
                geographies=catalog.geographies,
            ).items()
        }
    geographies = list(datasets)
    in_flight = datasets.get(paging.get("geography")) if paging else None
    if paging and (in_flight is None or paging.get("dataset", in_flight) != in_flight):
        paging = None  # the geography in flight is no longer configured, or released anew
        state.pop("paging", None)
    for position, geography in enumerate(geographies):
        dataset = datasets[geography]
        if paging and paging.get("geography") != geography:
            continue  # a window of another geography is in flight: finish it first
        if not paging:
            release = _release_of(client, base_url, dataset, geography)
            done = landed.get(geography, {})
            same_dataset = done.get("dataset", dataset) == dataset
            if release is not None and release == done.get("release") and same_dataset:
                log.info("%s: %s release unchanged since it landed", settings.SOURCE, geography)
                continue
            since = done.get("year") or start_year
            paging = {
                "geography": geography,
                "dataset": dataset,
                "release": release,
                "offset": 0,
                "since": since,
                "newest": done.get("year"),
            }
        url = f"{base_url}/resource/{dataset}.json"
        params: dict[str, Any] = {}
        condition = soql_where(paging["since"], where)
        if condition:
            params["$where"] = condition
        pages = socrata_pages(
            client,
            url,
            params=params,
            page_size=page_size,
            offset=paging["offset"],
            what=f"{geography} measures ({dataset}) from {paging['since']}",
        )
        finished = yield from batches(
            _measure_items(
                pages,
                geography=geography,
                paging=paging,
                page_size=page_size,
                pages_per_window=pages_per_window,
            ),
            MEASURES,
            bind=True,
        )
        if not finished:
            state["paging"] = paging
            state[MORE_WINDOWS] = True
            return
        landed[geography] = {
            "dataset": dataset,
            "release": paging["release"],
            "year": paging["newest"],
        }
        state.pop("paging", None)
        state[MORE_WINDOWS] = position + 1 < len(geographies)
        return


def _measure_items(
    pages: Iterable[tuple[int, str, list[Any]]],
    *,
    geography: str,
    paging: dict[str, Any],
    page_size: int,
    pages_per_window: int,
) -> Generator[Any, None, bool]:
    """The landing rows of the measures of `pages` (a reject for each that is not one),
    `paging` kept at the next page; returns whether the pages ended before the window
    was full (False: a next window goes on)."""
    for number, (offset, source_uri, rows) in enumerate(pages, start=1):
        for row in rows:
            landing = measure_row(row, geography=geography, source_uri=source_uri)
            if isinstance(landing, MalformedInput):
                yield reject(landing)
                continue
            if paging["newest"] is None or landing["year"] > paging["newest"]:
                paging["newest"] = landing["year"]
            yield landing
        log.info("%s: %s page at offset %d, %d rows", settings.SOURCE, geography, offset, len(rows))
        paging["offset"] = offset + page_size
        if number >= pages_per_window and len(rows) == page_size:
            return False
    return True


# No `columns` here: it lands two tables, each item bound to its own by `to_table`.
@dlt.resource(name="export_files", table_name=TABLE, write_disposition="append")
def export_files(location: str, download_dir: str, rows_per_window: int) -> Iterator[Any]:
    """The next window of the first CSV export at `location` not landed yet.

    Every file offered is accounted for (`BulkLedger`): an export (by its header) lands
    once, by its content, whatever its name or place; anything else is not a release file.
    A file that cannot be read as CSV is rejected (and not read again until it changes).
    """
    state = dlt.current.resource_state()
    ledger = BulkLedger(settings.SOURCE, state)
    in_flight: dict[str, Any] | None = state.get("export_in_flight")
    state[MORE_WINDOWS] = False
    path = resolve_location(location, source=settings.SOURCE, download_dir=Path(download_dir))
    done_one = False
    for member in ledger.offered(path):
        layout = export_layout(member) if member.problem is None else None
        if member.problem is None and layout is None:
            ledger.not_release_file(member, "not a PLACES CSV export (by its header)")
            continue
        if ledger.was_rejected(member):
            continue
        try:
            if member.problem:
                raise MalformedInput(settings.SOURCE, member.uri, member.problem)
            key = content_key(member)
        except MalformedInput as bad:
            ledger.reject(member, bad)
            yield reject(bad)
            continue
        if ledger.has_landed(key):
            ledger.already_landed(member, key)
            continue
        if done_one:  # another export follows: commit this window first
            state[MORE_WINDOWS] = True
            return
        done_one = True
        skip = in_flight["rows"] if in_flight and in_flight.get("key") == key else 0
        yield from _land_export(member, layout, key, skip, rows_per_window, state, ledger)
        if state[MORE_WINDOWS]:
            return


def _land_export(
    member: BulkMember,
    layout: ExportLayout | None,
    key: str,
    skip: int,
    rows_per_window: int,
    state: dict[str, Any],
    ledger: BulkLedger,
) -> Iterator[Any]:
    """One window of an export: up to `rows_per_window` rows from row `skip` on."""
    assert layout is not None
    read = 0
    landed = 0
    try:
        for batch in read_export(member, layout, skip_rows=skip, slice_rows=rows_per_window):
            for problem, position in batch.problems:
                yield reject(MalformedInput(settings.SOURCE, member.uri, problem), position)
            rows = batch.rows.append_column(
                "source_uri", pa.array([member.uri] * batch.rows.num_rows, pa.string())
            ).append_column("deleted", pa.array([False] * batch.rows.num_rows, pa.bool_()))
            if rows.num_rows:
                yield to_table(rows.select(MEASURES.schema.names).cast(MEASURES.schema), MEASURES)
            read += batch.rows.num_rows + len(batch.problems)
            landed += batch.rows.num_rows
            if read >= rows_per_window:
                state["export_in_flight"] = {"key": key, "rows": skip + read}
                state[MORE_WINDOWS] = True
                ledger.landed_part(member, landed)
                return
    except MalformedInput as bad:
        state.pop("export_in_flight", None)
        ledger.reject(member, bad)
        yield reject(bad)
        return
    state.pop("export_in_flight", None)
    log.info(
        "%s: %d %s rows of %s (from row %d)",
        settings.SOURCE,
        landed,
        layout.geography,
        member.uri,
        skip,
    )
    ledger.landed_file(member, key, landed)


def _release_of(client: PublisherClient, base_url: str, dataset: str, geography: str) -> Any:
    """The dataset's `rowsUpdatedAt` (seconds since 1970) from Socrata's view metadata."""
    metadata = client.get_json(
        f"{base_url}/api/views/{dataset}.json", what=f"{geography} dataset metadata ({dataset})"
    )
    return metadata.get("rowsUpdatedAt") if isinstance(metadata, dict) else None


# Annual releases: the monthly deployment checks them (an unchanged release lands nothing).
SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=cdcplaces,
    cadence="monthly",
    raw_tables=(MEASURES,),
    status_table=MEASURES.name,
    cursor_column="year",
    marts=("county_health", "places_measures"),
    samples=SAMPLES_DIR / "cdcplaces",
    token=TokenGate(
        "sources.cdcplaces.api_key",
        required=False,
        sign_up="https://data.cdc.gov/profile/edit/developer_settings",
    ),
)
