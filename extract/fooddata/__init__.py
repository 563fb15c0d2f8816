"""USDA FoodData Central: foods with their nutrients (Foundation, SR Legacy, Survey
(FNDDS), Branded).

Resources, all landing `raw_fooddata.foods` (key `fdc_id`, cursor `published_date`,
`record` = the publisher's food JSON unchanged, `record_format` = its shape):

- `foods`: the API's `GET /fdc/v1/foods/search` (foods matching `search_query` of
  `data_types`), sorted by `publishedDate` newest first and paged by `pageNumber` up to
  `totalPages`; each page is a committed window. The cursor is `publishedDate` (when FDC
  published the food; a changed branded food is published under a new fdcId), not
  `modifiedDate` (the brand owner's own date, branded foods only, often years older).
  A sweep stops at the first page reaching foods published before the cursor less one
  day; the cursor advances when a sweep completes.
- `food_details`: `GET /fdc/v1/food/{fdcId}` for the ids in `fdc_ids` (full format, or
  abridged when FDC has no full record of an id).
- `foods_bulk`: FDC's JSON downloads (`FoodData_Central_<type>_json_<date>.zip`, one JSON
  `{"BrandedFoods": [...]}`), from a folder, a zip or a URL, streamed food by food; each
  file lands once, committed every `bulk_foods_per_window` foods.

The API needs an api.data.gov key (`[sources.fooddata] api_key` in `.dlt/secrets.toml`);
without one the API resources land nothing and say so. Downloads need no key.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Generator, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.sources import DltResource

from extract.bulk import BulkLedger, BulkMember, peek, resolve_location
from extract.errors import MalformedInput, RequestRejected
from extract.fooddata import settings
from extract.fooddata.helpers import (
    FOODS,
    download_key,
    food_row,
    foods_in_page,
    is_fooddata,
    iter_document,
    iter_download,
)
from extract.http import PublisherClient
from extract.landing import MORE_WINDOWS, batches, reject, to_table
from extract.spec import SearchExample, SourceSpec, TokenGate
from extract.tombstones import LISTED, Listing, forget_other_listings, missing
from medmirror.settings import SAMPLES_DIR

log = logging.getLogger(__name__)

TABLE = FOODS.name
NO_KEY = (
    f"{settings.SOURCE}: skipped: the FoodData Central API needs an api.data.gov key "
    f"(free at {settings.KEY_SIGNUP_URL}); set `api_key` under [sources.fooddata] in "
    ".dlt/secrets.toml or SOURCES__FOODDATA__API_KEY. Bulk downloads need no key: "
    "medmirror refresh --source fooddata --bulk PATH_OR_URL"
)


@dlt.source(name=settings.SOURCE)
def fooddata(
    api_url: str = settings.API_URL,
    search_query: str = settings.SEARCH_QUERY,
    data_types: str = settings.DATA_TYPES,
    page_size: int = settings.PAGE_SIZE,
    start_date: str | None = None,
    fdc_ids: Sequence[int] | None = None,
    bulk_location: str | None = None,
    bulk_foods_per_window: int = settings.BULK_FOODS_PER_WINDOW,
    download_dir: str | None = None,
) -> list[DltResource]:
    """The API resources, or with `bulk_location` the bulk resource only."""
    if bulk_location:
        return [
            foods_bulk(
                bulk_location, foods_per_window=bulk_foods_per_window, download_dir=download_dir
            )
        ]
    resources = [
        foods(
            api_url=api_url,
            search_query=search_query,
            data_types=data_types,
            page_size=page_size,
            start_date=start_date,
        )
    ]
    if fdc_ids:
        resources.append(food_details(api_url=api_url, fdc_ids=list(fdc_ids)))
    return resources


def _keyed_client(api_url: str) -> PublisherClient | None:
    client = PublisherClient(settings.SOURCE, api_urls=(api_url,))
    if not client.api_key:
        log.warning(NO_KEY)
        return None
    return client


# -- the API -------------------------------------------------------------------------------


@dlt.resource(name="foods", table_name=TABLE, write_disposition="append", columns=FOODS.columns)
def foods(
    api_url: str = settings.API_URL,
    search_query: str = settings.SEARCH_QUERY,
    data_types: str = settings.DATA_TYPES,
    page_size: int = settings.PAGE_SIZE,
    start_date: str | None = None,
) -> Iterator[pa.Table]:
    """The next search page of foods published since the cursor (newest first)."""
    state = dlt.current.resource_state()
    client = _keyed_client(api_url)
    if client is None:
        state[MORE_WINDOWS] = False
        return
    sweep = state.get("sweep")
    if not sweep:
        since = _api_start(state, start_date)
        sweep = {"page": 1, "since": since.isoformat(), "newest": state.get("newest_published")}
    since = date.fromisoformat(sweep["since"])
    what = f"search page {sweep['page']} of foods published since {since}"
    page = client.get_json(
        f"{api_url}/foods/search",
        params={
            "query": search_query,
            "dataType": data_types,
            "pageSize": page_size,
            "pageNumber": sweep["page"],
            "sortBy": "publishedDate",
            "sortOrder": "desc",
        },
        what=what,
    )
    landed, reached_older = yield from batches(
        _search_rows(page, api_url=api_url, what=what, since=since, sweep=sweep),
        FOODS,
        size=max(page_size, 1),  # a page, one batch
    )
    total_pages = page.get("totalPages") or 0
    log.info("%s: %s of %s, %d foods", settings.SOURCE, what, total_pages, landed)
    if reached_older or sweep["page"] >= total_pages:
        if sweep["newest"]:
            state["newest_published"] = sweep["newest"]
        state.pop("sweep", None)
        state[MORE_WINDOWS] = False
    else:
        sweep["page"] += 1
        state["sweep"] = sweep
        state[MORE_WINDOWS] = True


def _search_rows(
    page: Any, *, api_url: str, what: str, since: date, sweep: dict[str, Any]
) -> Generator[dict[str, Any], None, tuple[int, bool]]:
    """The rows of the foods of a search page published since `since`, the newest date
    kept in `sweep`; returns how many, and whether the page reached an older food."""
    landed = 0
    reached_older = False
    for food in foods_in_page(page, where=what):
        row = food_row(
            food, source_uri=f"{api_url}/foods/search", where=what, default_format="search"
        )
        row["source_uri"] = f"{api_url}/food/{row['fdc_id']}"
        published = row["published_date"]
        if published and published < since:
            reached_older = True
            continue
        if published and (not sweep["newest"] or published.isoformat() > sweep["newest"]):
            sweep["newest"] = published.isoformat()
        landed += 1
        yield row
    return landed, reached_older


def _api_start(state: dict[str, Any], start_date: str | None) -> date:
    """Where a new sweep starts: the cursor less the overlap, the given start date, the
    newest food the downloads landed, or INITIAL_DAYS ago."""
    newest = state.get("newest_published")
    if not newest:
        bulk = dlt.current.source_state().get("resources", {}).get("foods_bulk", {})
        newest = bulk.get("newest_published") if not start_date else None
    if newest:
        return date.fromisoformat(newest) - timedelta(days=settings.OVERLAP_DAYS)
    if start_date:
        return date.fromisoformat(start_date)
    return date.today() - timedelta(days=settings.INITIAL_DAYS)


@dlt.resource(
    name="food_details", table_name=TABLE, write_disposition="append", columns=FOODS.columns
)
def food_details(api_url: str = settings.API_URL, fdc_ids: Sequence[int] = ()) -> Iterator[Any]:
    """Each food of `fdc_ids` in full (`/food/{fdcId}`), or abridged when FDC answers 404
    to the full format (it does for some Foundation foods)."""
    client = _keyed_client(api_url)
    if client is None:
        return
    yield from batches(_detail_rows(client, api_url, fdc_ids), FOODS)


def _detail_rows(
    client: PublisherClient, api_url: str, fdc_ids: Sequence[int]
) -> Iterator[dict[str, Any]]:
    """The row of each food of `fdc_ids`, asked for one by one."""
    for fdc_id in fdc_ids:
        url = f"{api_url}/food/{int(fdc_id)}"
        try:
            food = client.get_json(url, what=f"food {fdc_id}")
            shape = "full"
        except RequestRejected as refused:
            if "answered 404" not in refused.problem:
                raise
            log.info(
                "%s: food %s has no full record, asking for the abridged one",
                settings.SOURCE,
                fdc_id,
            )
            food = client.get_json(url, params={"format": "abridged"}, what=f"food {fdc_id}")
            shape = "abridged"
        yield food_row(food, source_uri=url, where=f"food {fdc_id}", default_format=shape)


# -- bulk downloads ------------------------------------------------------------------------


# No `columns` here: it lands two tables, each item bound to its own by `to_table`.
@dlt.resource(name="foods_bulk", table_name=TABLE, write_disposition="append")
def foods_bulk(
    location: str,
    foods_per_window: int = settings.BULK_FOODS_PER_WINDOW,
    download_dir: str | None = None,
) -> Iterator[Any]:
    """Every food of the download files at `location` not landed before.

    Every file offered is accounted for (`BulkLedger`, keyed by file name): a download is
    recognised by its top-level key (`{"BrandedFoods": [...]}`, `SRLegacyFoods`, ...), a
    saved API answer by its foods (`fdcId`), whatever the file is named; every other file
    is listed as not a release file. A rerun skips the files landed and resumes inside
    the file it stopped in (after the last committed food). A food without an fdcId is
    recorded in `raw_fooddata.rejects` by its position; a file that breaks lands the
    foods before the break and is recorded there too (and not read again until it
    changes).
    """
    state = dlt.current.resource_state()
    path = resolve_location(
        location, source=settings.SOURCE, download_dir=Path(download_dir or ".")
    )
    legacy = (
        state.pop("landed_files", None) if isinstance(state.get("landed_files"), list) else None
    )
    ledger = BulkLedger(settings.SOURCE, state)
    ledger.adopt(legacy or [])
    progress = state.get("progress") or {}
    window = _BulkWindow(state, max(foods_per_window, 1))
    for member in ledger.offered(path):
        if member.problem is None and not is_fooddata(peek(member)):
            ledger.not_release_file(
                member, "not FoodData Central foods (a download or an API answer)"
            )
            continue
        key = member.name.rsplit("/", 1)[-1]
        if ledger.has_landed(key):
            ledger.already_landed(member, key)
            continue
        if ledger.was_rejected(member):
            continue
        if window.rows_or_rejects:  # one file per load: the next file starts the next window
            window.close(None, more=True)
            return
        skip = progress.get("items", 0) if progress.get("file") == key else 0
        release = _FullDownload.open(state, member, key, resuming=skip > 0)
        window.release = release
        try:  # the foods before a break land
            complete = yield from batches(window.read(member, skip=skip), FOODS, bind=True)
        except MalformedInput as bad:
            yield reject(bad)
            ledger.reject(member, bad)
            window.rows_or_rejects = True
            if release:
                yield from release.commit()
                release.close()
            continue
        if release:
            yield from release.commit()
        if not complete:
            ledger.landed_part(member, window.rows)
            window.close({"file": key, "items": window.items}, more=True)
            return
        ledger.landed_file(member, key, window.rows)
        if release:
            yield from release.finish(member.uri)
        log.info("%s: %s landed", settings.SOURCE, member.uri)
    window.close(None, more=False)


class _FullDownload:
    """Tombstones from a full download of one data type.

    How "full" is known: FDC's downloads (`FoodData_Central_<type>_json_<date>.zip`, one
    JSON document `{"BrandedFoods": [...]}`, `SRLegacyFoods`, ...) each hold every food
    of their data type as of their release; a saved API answer (a search page, one food)
    holds some foods and lands no tombstone. Once a download was read to its end with no
    food rejected (a food without its fdcId cannot be said to be absent), each food raw
    holds as current of the data types the download holds (landed before the download
    was first read) that it does not name lands a deletion notice: FDC publishes a
    changed food under a new fdcId and drops the old one. A download older than the one
    last tombstoned for its data type (its newest `publishedDate`) lands none.
    The fdcIds read are kept in `listed_keys` with each window, the download's reading in
    the state (`full_download`)."""

    def __init__(self, state: dict[str, Any], listing: Listing, array: str) -> None:
        self.state = state
        self.listing = listing
        self.array = array
        self.kept: dict[str, Any] = state["full_download"]
        self.named: set[str] = set()  # not in `listed_keys` yet
        self.window: set[str] = set()  # named in this window (not loaded before it ends)

    @classmethod
    def open(
        cls, state: dict[str, Any], member: BulkMember, key: str, *, resuming: bool
    ) -> _FullDownload | None:
        if member.problem:
            return None
        with member.open() as stream:
            array = download_key(stream)
        if not array:
            return None
        kept = state.get("full_download") or {}
        if not resuming or kept.get("file") != key:
            state["full_download"] = {"file": key, "types": [], "newest": None, "whole": True}
            state.pop("listing", None)
        listing = Listing.open(
            state, "listing", id=f"FoodData Central {array} download {key}", table=TABLE
        )
        if not resuming:
            forget_other_listings(listing, f"FoodData Central {array} download")
        return cls(state, listing, array)

    def food(self, row: dict[str, Any]) -> None:
        self.named.add(str(row["fdc_id"]))
        if row.get("data_type") and row["data_type"] not in self.kept["types"]:
            self.kept["types"].append(row["data_type"])
        published = row.get("published_date")
        if published and (not self.kept["newest"] or published.isoformat() > self.kept["newest"]):
            self.kept["newest"] = published.isoformat()

    def rejected(self) -> None:
        self.kept["whole"] = False

    def commit(self) -> Iterator[Any]:
        rows = self.listing.rows(self.named)
        self.window |= self.named
        self.named = set()
        if rows is not None:
            yield to_table(rows, LISTED)

    def close(self) -> None:
        self.state.pop("full_download", None)
        self.state.pop("listing", None)

    def finish(self, uri: str) -> Iterator[Any]:
        kept, tombstoned = self.kept, self.state.setdefault("tombstoned_through", {})
        self.close()
        if not kept["whole"]:
            yield reject(
                MalformedInput(
                    settings.SOURCE,
                    uri,
                    "a full download with foods rejected: nothing recorded as deleted",
                )
            )
            return
        types = sorted(kept["types"])
        if not types or any(
            kept["newest"] and tombstoned.get(kind, "") > kept["newest"] for kind in types
        ):
            return  # an older release than one already tombstoned from
        gone = missing(
            self.listing,
            key_column="fdc_id",
            also_listed=self.window,
            scope=("data_type = any(%s)", (types,)),
            source=settings.SOURCE,
        )
        if isinstance(gone, MalformedInput):
            log.warning("%s: %s", settings.SOURCE, gone)
            yield reject(gone)
            return
        for kind in types:
            tombstoned[kind] = max(tombstoned.get(kind, ""), kept["newest"] or "")
        rows = (
            {
                "fdc_id": int(fdc_id),
                "record_format": "deleted",
                "record": None,
                "source_uri": f"{uri} ({self.array} download: the food is no longer in it)",
                "deleted": True,
            }
            for fdc_id in sorted(gone, key=int)
        )
        yield from batches(rows, FOODS, bind=True)


class _BulkWindow:
    def __init__(self, state: dict[str, Any], size: int) -> None:
        self.state = state
        self.size = size
        self.rows = 0
        self.items = 0
        self.rows_or_rejects = False
        self.release: _FullDownload | None = None

    def read(self, member: BulkMember, *, skip: int) -> Generator[Any, None, bool]:
        """Yields the rows of `member` after its first `skip` foods (a reject for a food
        without its fdcId); returns whether the file was read to its end (False: the
        window is full)."""
        if member.problem:
            raise MalformedInput(settings.SOURCE, member.uri, member.problem)
        with member.open() as stream:
            key = download_key(stream)
        with member.open() as stream:
            if key:
                found = iter_download(stream, key, where=member.uri)
            else:
                # At most one byte past the limit: a larger document is refused unread.
                found = iter_document(
                    stream.read(settings.WHOLE_DOCUMENT_BYTES + 1), where=member.uri
                )
            for position, food in enumerate(itertools.islice(found, skip, None), start=skip):
                self.items = position + 1
                self.rows_or_rejects = True
                try:
                    row = food_row(
                        food,
                        source_uri=member.uri,
                        where=f"{member.uri} food {position + 1}",
                        default_format="full",
                    )
                except MalformedInput as bad:
                    if self.release:
                        self.release.rejected()
                    yield reject(bad)
                    continue
                if self.release:
                    self.release.food(row)
                self._newest(row["published_date"])
                self.rows += 1
                yield row
                if self.rows >= self.size:
                    return False
        return True

    def _newest(self, published: date | None) -> None:
        newest = self.state.get("newest_published")
        if published and (not newest or published.isoformat() > newest):
            self.state["newest_published"] = published.isoformat()

    def close(self, progress: dict[str, Any] | None, *, more: bool) -> None:
        if progress is None:
            self.state.pop("progress", None)
        else:
            self.state["progress"] = progress
        self.state[MORE_WINDOWS] = more


SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=fooddata,
    cadence="monthly",  # FDC publishes its data in periodic releases
    token=TokenGate(  # the API's; its downloads (--bulk) need none
        "sources.fooddata.api_key",
        required=True,
        sign_up="https://fdc.nal.usda.gov/api-key-signup",
    ),
    raw_tables=(FOODS, LISTED),
    status_table=FOODS.name,
    cursor_column="published_date",
    marts=("food_items", "food_nutrients"),
    samples=SAMPLES_DIR / "fooddata",  # a download constructed from real records
    search=SearchExample(
        mart="food_items",
        query="cheddar",
        shown=("fdc_id", "description", "data_type", "brand_owner"),
    ),
)
