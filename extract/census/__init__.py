"""Census ACS: American Community Survey 5-year estimates from the Census Data API.

One resource, `estimates`, landing `raw_census.estimates`: one row per vintage year,
geography ("county" or "tract") and GEOID (key `year`, `geography`, `geoid`; the cursor
is the vintage `year`), the API's row as `record` (header name -> value, every value a
string as the API sends it, annotation values such as "-666666666" included; staging
turns those into nulls). Each vintage and geography is one window: counties in one
request (`for=county:*`), tracts one request per state (`for=tract:*&in=state:06`).
The vintages are every one from `first_year` (2019) on that the API's dataset list
(https://api.census.gov/data.json) names for `acs/acs5`, so a new vintage lands with no
config edit; a configured `years` list instead (no dataset list read). A vintage lands
once; one the API does not publish yet (404) is asked again on a later day. A row that
does not fit the header or lacks its FIPS codes goes to
`raw_census.rejects` and the rest lands.

An API key is optional (`[sources.census] api_key` in `.dlt/secrets.toml`, sent as
`key=`): without one the Census allows 500 requests a day per address, enough for the
counties and the tracts of about nine vintages.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from typing import Any

import dlt
import orjson
from dlt.sources import DltResource

from extract.census import settings
from extract.census.helpers import ESTIMATES, estimate_rows, header_and_rows, query_params
from extract.errors import MalformedInput
from extract.http import PublisherClient
from extract.landing import MORE_WINDOWS, batches, reject
from extract.spec import SourceSpec, TokenGate

log = logging.getLogger(__name__)

TABLE = ESTIMATES.name


@dlt.source(name=settings.SOURCE)
def census(
    api_url: str = settings.API_URL,
    dataset: str = settings.DATASET,
    years: list[int] | None = None,
    variables: list[str] | None = None,
    geographies: list[str] | None = None,
    states: list[str] | None = None,
    download_dir: str | None = None,  # noqa: ARG001 - an API only: nothing to download
    catalog_url: str | None = None,
    first_year: int = settings.FIRST_YEAR,
) -> DltResource:
    """The ACS estimates of the configured vintages (by default every vintage from
    `first_year` on that the API's dataset list names), variables and geographies (the
    defaults in `settings` when not configured)."""
    years = years or list(settings.YEARS)
    variables = variables or list(settings.VARIABLES)
    geographies = geographies or list(settings.GEOGRAPHIES)
    states = states or list(settings.STATES)
    unknown = [name for name in geographies if name not in settings.GEOID_PARTS]
    if unknown:
        known = ", ".join(settings.GEOID_PARTS)
        raise ValueError(f"census: unknown geographies {unknown} (known: {known})")
    return estimates(
        api_url=api_url,
        dataset=dataset,
        years=[int(year) for year in years],
        variables=list(variables),
        geographies=list(geographies),
        states=[str(code).zfill(2) for code in states],
        catalog_url=None if years else (catalog_url or f"{api_url.rstrip('/')}.json"),
        first_year=int(first_year),
    )


# No `columns` here: it lands two tables, each item bound to its own by `to_table`.
@dlt.resource(name="estimates", table_name=TABLE, write_disposition="append")
def estimates(
    api_url: str,
    dataset: str,
    years: list[int],
    variables: list[str],
    geographies: list[str],
    states: list[str],
    catalog_url: str | None = None,
    first_year: int = settings.FIRST_YEAR,
) -> Iterator[Any]:
    """The next vintage and geography not landed yet (one window), oldest first; with
    `catalog_url`, the vintages are those the API's dataset list names from `first_year`."""
    state = dlt.current.resource_state()
    client = PublisherClient(settings.SOURCE, api_urls=(api_url,))
    today = date.today().isoformat()
    landed = set(state.get("landed", []))
    unpublished: dict[str, str] = state.setdefault("unpublished", {})

    def pending_of(vintages: list[int]) -> list[str]:
        return [
            f"{year}/{geography}"
            for year in sorted(vintages)
            for geography in geographies
            if f"{year}/{geography}" not in landed
            and unpublished.get(f"{year}/{geography}") != today
        ]

    if catalog_url:
        # The list is large: a run that is landing the vintages it read keeps them; it is
        # read again when every vintage read has landed (or on another day).
        listed = state.get("listed_vintages", {})
        years = [year for year in listed.get("years", []) if year >= first_year]
        fresh = listed.get("checked") == today and listed.get("from") == catalog_url
        if not (fresh and pending_of(years)):
            years = published_vintages(client, catalog_url, dataset, first_year)
            state["listed_vintages"] = {"checked": today, "from": catalog_url, "years": years}
    pending = pending_of(years)
    state[MORE_WINDOWS] = False
    if not pending:
        log.info("%s: every vintage has landed (%s)", settings.SOURCE, _span(years))
        return
    if not client.api_key:
        log.info(
            "%s: no API key configured (optional): asking keyless, 500 requests a day; "
            "a free key from %s goes in .dlt/secrets.toml [sources.census] api_key",
            settings.SOURCE,
            settings.KEY_SIGNUP,
        )
    for position, window in enumerate(pending):
        year, geography = int(window.split("/")[0]), window.split("/")[1]
        rows = _window(client, api_url, dataset, year, geography, variables, states)
        items = list(batches(rows, ESTIMATES, bind=True))
        if items and items[0] is None:
            unpublished[window] = today
            log.info("%s: ACS %s not published yet (404), asked again later", settings.SOURCE, year)
            continue
        yield from (item for item in items if item is not None)
        landed.add(window)
        state["landed"] = sorted(landed)
        unpublished.pop(window, None)
        state[MORE_WINDOWS] = position + 1 < len(pending)
        return


def published_vintages(
    client: PublisherClient, catalog_url: str, dataset: str, first_year: int
) -> list[int]:
    """The vintages of `dataset` (`acs/acs5`) from `first_year` on that the API's dataset
    list names; an error naming the list when it names none (or is not one)."""
    catalog = client.get_json(catalog_url, what="the dataset list")
    wanted = dataset.strip("/").split("/")
    entries = catalog.get("dataset") if isinstance(catalog, dict) else None
    if not isinstance(entries, list):
        raise MalformedInput(
            settings.SOURCE, catalog_url, "not the API's dataset list (no `dataset` array)"
        )
    vintages = sorted(
        {
            int(entry["c_vintage"])
            for entry in entries
            if isinstance(entry, dict)
            and entry.get("c_dataset") == wanted
            and str(entry.get("c_vintage", "")).isdigit()
            and int(entry["c_vintage"]) >= first_year
        }
    )
    if not vintages:
        raise MalformedInput(
            settings.SOURCE,
            catalog_url,
            f"the dataset list names no {dataset} vintage from {first_year} on "
            f"({len(entries)} datasets listed)",
        )
    log.info("%s: %s vintages the API lists: %s", settings.SOURCE, dataset, _span(vintages))
    return vintages


def _span(years: list[int]) -> str:
    return ", ".join(str(year) for year in sorted(years)) or "none"


def _window(
    client: PublisherClient,
    api_url: str,
    dataset: str,
    year: int,
    geography: str,
    variables: list[str],
    states: list[str],
) -> Iterator[Any]:
    """The rows and rejects of one vintage and geography; a lone None if unpublished."""
    url = f"{api_url}/{year}/{dataset}"
    for state_code in states if geography == "tract" else [None]:
        params = query_params(variables, geography, state_code)
        what = f"ACS {year} {geography}" + (f" in state {state_code}" if state_code else "")
        response = client.get(url, params=params, what=what, accept=(404,))
        if response.status_code == 404:
            if state_code is None or state_code == states[0]:
                yield None  # the vintage is not there at all
                return
            raise MalformedInput(settings.SOURCE, what, f"{client.scrub(response.url)} is 404")
        source_uri = client.scrub(response.url)
        try:
            document = orjson.loads(response.content)
        except orjson.JSONDecodeError as bad:
            raise MalformedInput(
                settings.SOURCE, what, f"the answer of {source_uri} is not JSON: {bad}"
            ) from None
        header, rows = header_and_rows(document, where=f"{what} ({source_uri})")
        for row in estimate_rows(
            header, rows, year=year, geography=geography, source_uri=source_uri
        ):
            if isinstance(row, MalformedInput):
                yield reject(row)
                continue
            yield row
        log.info("%s: %s, %d rows", settings.SOURCE, what, len(rows))


# Annual releases: the monthly deployment checks them (an unchanged release lands nothing).
SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=census,
    cadence="monthly",
    raw_tables=(ESTIMATES,),
    status_table=ESTIMATES.name,
    cursor_column="year",
    marts=("county_health",),
    token=TokenGate(
        "sources.census.api_key",
        required=False,
        sign_up="https://api.census.gov/data/key_signup.html",
    ),
)
