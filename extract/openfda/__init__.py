"""openFDA: drug labels (SPL text by section) and the NDC directory, from the API or the
bulk download partitions.

Raw tables (`record` is openFDA's result object, unchanged):

- `raw_openfda.labels`: one /drug/label result (key `set_id` + `version`, windows of
  `effective_time`).
- `raw_openfda.ndc`: one /drug/ndc product with its packages (key `product_id`, which is
  the product NDC and the listing's SPL id; windows of `listing_expiration_date`).
- `raw_openfda.rejects`: records without their key, broken partitions.

Resources:

- `labels`, `ndc`: the API, swept whenever openFDA publishes anew (`meta.last_updated`):
  `search=<date field>:[FROM TO UNTIL]` one window at a time, each window read only when
  the total openFDA states for it changed since it was last read (`limit=1` asks), read
  with `limit` 1000, paged by the `Link: <...>; rel="next"` header (its URL carries
  `search_after`, so a window may hold more than the 25,000 records `skip` reaches). No
  date is a cursor: openFDA publishes labels late with older effective times, and NDC
  listing expiration dates lie in the future. The sweep's place and each window's
  total are kept in the resource state, committed with each window's data.
- `partitions`: the zipped JSON partitions of openFDA's download manifest (from the
  manifest's URL, a partition's URL, or a folder/zip of downloaded partitions), each
  partition landed once, in a window of its own, read as a stream.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dlt
import orjson
from dlt.sources import DltResource

from extract.bulk import BulkLedger, BulkMember, resolve_location
from extract.errors import MalformedInput, RequestRejected
from extract.hosts import parse_hosts
from extract.http import PublisherClient
from extract.landing import MORE_WINDOWS, batches, reject, to_table
from extract.openfda import settings
from extract.openfda.helpers import (
    DATASETS,
    LABELS,
    NDC,
    UNREADABLE,
    Dataset,
    dataset_of,
    is_not_found,
    iter_partition,
    manifest_partitions,
    next_page_url,
    page_results,
    partition_dataset,
    window_search,
)
from extract.publication import Publication, openfda_meta, record_publication
from extract.spec import SourceSpec
from extract.tombstones import LISTED, Listing, forget_other_listings, missing
from medmirror.settings import SAMPLES_DIR

log = logging.getLogger(__name__)

# What openFDA's total of each dataset counts (for ops.reconciliation).
DATASET_COUNTED = {"label": "labels (one version per set id)", "ndc": "NDC products"}


@dlt.source(name=settings.SOURCE)
def openfda(
    label_url: str = settings.LABEL_URL,
    ndc_url: str = settings.NDC_URL,
    page_size: int = settings.PAGE_SIZE,
    label_start_date: str = settings.LABEL_START_DATE.isoformat(),
    label_window_days: int = settings.LABEL_WINDOW_DAYS,
    ndc_start_date: str = settings.NDC_START_DATE.isoformat(),
    ndc_window_days: int = settings.NDC_WINDOW_DAYS,
    bulk_location: str | None = None,
    bulk_datasets: list[str] | None = None,
    download_dir: str = ".",
) -> list[DltResource]:
    """The API resources, or with `bulk_location` (the download manifest's URL, a
    partition's URL, or a folder or zip of partitions) the bulk resource only."""
    if bulk_location:
        return [
            partitions(
                bulk_location,
                datasets=tuple(bulk_datasets or settings.BULK_DATASETS),
                download_dir=download_dir,
            )
        ]
    return [
        labels(
            url=label_url,
            page_size=page_size,
            start_date=label_start_date,
            window_days=label_window_days,
        ),
        ndc(
            url=ndc_url, page_size=page_size, start_date=ndc_start_date, window_days=ndc_window_days
        ),
    ]


# No `columns` on the resources: each lands its records and rejects, each item bound to
# its table by `to_table`.
@dlt.resource(name="labels", table_name=LABELS.table, write_disposition="append")
def labels(
    url: str = settings.LABEL_URL,
    page_size: int = settings.PAGE_SIZE,
    start_date: str = settings.LABEL_START_DATE.isoformat(),
    window_days: int = settings.LABEL_WINDOW_DAYS,
) -> Iterator[Any]:
    """/drug/label results, window by window of `effective_time`, whenever openFDA
    publishes labels anew (a label published late with an older effective time lands;
    a future-dated one moves nothing): see `_api_window`."""
    yield from _api_window(
        LABELS, url=url, page_size=page_size, start_date=start_date, window_days=window_days
    )


@dlt.resource(name="ndc", table_name=NDC.table, write_disposition="append")
def ndc(
    url: str = settings.NDC_URL,
    page_size: int = settings.PAGE_SIZE,
    start_date: str = settings.NDC_START_DATE.isoformat(),
    window_days: int = settings.NDC_WINDOW_DAYS,
) -> Iterator[Any]:
    """/drug/ndc products, window by window of `listing_expiration_date`, whenever openFDA
    publishes the directory anew.

    The NDC directory has no modification date, and `listing_expiration_date` (the text
    files' LISTING_RECORD_CERTIFIED_THROUGH, Dec 31 of the next year once a labeler
    certifies) lies in the future by nature: it only partitions the directory into
    windows, it is never a cursor. A listing certified again moves from one window to
    another, so both windows' counts change and both are read again.
    """
    yield from _api_window(
        NDC, url=url, page_size=page_size, start_date=start_date, window_days=window_days
    )


def _api_window(
    dataset: Dataset, *, url: str, page_size: int, start_date: str, window_days: int
) -> Iterator[Any]:
    """The next window of `dataset` whose records changed since openFDA's last publication.

    openFDA says when it last published a dataset (`meta.last_updated`) and how many
    records match any search (`meta.results.total`). Each run first asks for one record
    without a search: when the as-of date is the one the last finished sweep began
    under, nothing was published since and nothing more is asked. Otherwise a sweep
    walks the windows of `window_days` days of the dataset's date field from
    `start_date` (the last window open-ended: future dates land too), in order: a window
    whose total openFDA states equals the total it stated when the window was last read
    is skipped after that one question (`limit=1`); a window never read, or whose total
    changed, is read whole, page after page by the `Link` header, and committed as one
    window (the sweep goes on in the next). So a label published late with an older
    `effective_time` changes its window's total and lands, and a future date moves
    nothing. The sweep's place (`sweep_from`), the totals per window (`totals`) and the
    as-of date of the last finished sweep (`as_of`) are kept in the resource state,
    committed with each window's data. A search matching nothing is openFDA's 404
    NOT_FOUND: an empty window (total 0).
    """
    state = dlt.current.resource_state()
    client = PublisherClient(settings.SOURCE, api_urls=(url,))
    as_of, total = _count(client, url, None, what=f"what openFDA has published of {dataset.table}")
    record_publication(
        state,
        Publication(
            as_of=as_of,
            total=total,
            counted=DATASET_COUNTED[dataset.name],
            how=f"openFDA meta.results.total of {url}",
        ),
    )
    for older in ("cursor", "searched_through"):  # an older release's date cursor
        state.pop(older, None)
    if state.get("sweep_from") is None:
        if as_of is not None and state.get("as_of") == as_of.isoformat():
            log.info(
                "%s: openFDA has published no %s since %s", settings.SOURCE, dataset.table, as_of
            )
            state[MORE_WINDOWS] = False
            return
        state["sweep_from"] = start_date
        state["sweep_as_of"] = as_of.isoformat() if as_of else None
        _start_listing(dataset, state, total)
    sweep: dict[str, Any] = state.get("sweep") or {"whole": False}
    if state.get("sweep_as_of") != (as_of.isoformat() if as_of else None):
        sweep["whole"] = False  # openFDA published anew during the sweep
    totals: dict[str, int] = state.setdefault("totals", {})
    today = date.today()
    start = date.fromisoformat(state["sweep_from"])
    while True:
        last_day = start + timedelta(days=max(window_days, 1) - 1)
        end = None if last_day >= today else last_day
        key = f"{start.isoformat()}/{end.isoformat() if end else 'open'}"
        search = window_search(dataset.cursor, start, end)
        if key not in totals:
            break
        _, published = _count(client, url, search, what=f"{dataset.table} {search}")
        if published != totals[key]:
            break
        sweep["whole"] = False  # a window not read: the sweep is no complete listing
        if end is None:
            yield from _sweep_tombstones(dataset, state, url, named=set())
            _finish_sweep(state)
            return
        start = end + timedelta(days=1)
    read = yield from _read_window(dataset, client, url=url, search=search, page_size=page_size)
    totals[key] = read.total
    if read.rejected:
        sweep["whole"] = False  # a record without its key: its key cannot be said absent
    if sweep["whole"]:
        sweep["records"] = sweep.get("records", 0) + read.records
        rows = _sweep_listing(dataset, sweep).rows(read.keys)
        if rows is not None:
            yield to_table(rows, LISTED)
    if end is None:
        yield from _sweep_tombstones(dataset, state, url, named=read.keys)
        _finish_sweep(state)
    else:
        state["sweep_from"] = (end + timedelta(days=1)).isoformat()
        state[MORE_WINDOWS] = True


def _start_listing(dataset: Dataset, state: dict[str, Any], total: int) -> None:
    """A new sweep is a complete listing of the dataset if it reads every window whole
    under one publication and names as many records as openFDA states (`total`): the keys
    of each window read land in `listed_keys`, the earlier sweeps' keys are forgotten."""
    listing = Listing.open(
        state,
        "sweep_listing",
        id=f"{_sweep_kind(dataset)} {state.get('sweep_as_of') or 'undated'} {time.time():.0f}",
        table=dataset.table,
    )
    state["sweep"] = {
        "whole": True,
        "total": total,
        "records": 0,
        "listing": listing.id,
        "since": listing.since,
    }
    forget_other_listings(listing, _sweep_kind(dataset))


def _sweep_kind(dataset: Dataset) -> str:
    return f"openFDA drug/{dataset.name} API sweep"


def _sweep_listing(dataset: Dataset, sweep: dict[str, Any]) -> Listing:
    return Listing(id=sweep["listing"], table=dataset.table, since=sweep["since"])


def _sweep_tombstones(
    dataset: Dataset, state: dict[str, Any], url: str, *, named: set[str]
) -> Iterator[Any]:
    """At the end of a sweep: the deletion notices of the keys a complete sweep did not
    name (`named`: the last window's, not committed yet). A sweep that skipped a window
    whose total was unchanged (every incremental sweep but the first: `--full` reads every
    window), read a record without its key, or spanned two publications lands none; one
    that named fewer records than openFDA stated is refused with a reject."""
    sweep = state.pop("sweep", None)
    state.pop("sweep_listing", None)
    if not sweep:
        return
    listing = _sweep_listing(dataset, sweep)
    if not sweep["whole"]:
        log.info(
            "%s: the %s sweep did not read every window whole: it lands no deletion notice "
            "(a --full refresh reads every window)",
            settings.SOURCE,
            dataset.table,
        )
        return
    if sweep["records"] < sweep["total"]:
        yield reject(
            MalformedInput(
                settings.SOURCE,
                listing.id,
                f"the sweep read {sweep['records']} of the {sweep['total']} {dataset.table} "
                "records openFDA stated (records outside every window?): not complete, "
                "nothing recorded as deleted",
            )
        )
        return
    yield from _tombstones(dataset, listing, named, url)


def _finish_sweep(state: dict[str, Any]) -> None:
    """The sweep is done: the as-of date it began under is the one landed."""
    state["as_of"] = state.pop("sweep_as_of", None)
    state.pop("sweep_from", None)
    state[MORE_WINDOWS] = False


def _count(
    client: PublisherClient, url: str, search: str | None, *, what: str
) -> tuple[date | None, int]:
    """openFDA's as-of date and the total matching `search` (the whole dataset: None),
    asked with `limit=1`."""
    params: dict[str, Any] = {"limit": 1}
    if search:
        params["search"] = search
    response = client.get(url, params=params, what=what, accept=(404,))
    if response.status_code == 404:
        if not is_not_found(response):
            raise RequestRejected(
                settings.SOURCE, what, f"answered 404: {client.scrub(response.text[:300])}"
            )
        return None, 0
    try:
        document = orjson.loads(response.content)
    except orjson.JSONDecodeError as bad:
        raise MalformedInput(settings.SOURCE, what, f"the answer is not JSON: {bad}") from None
    as_of, total = openfda_meta(document)
    if total is None:
        raise MalformedInput(settings.SOURCE, what, "the answer has no meta.results.total")
    return as_of, total


@dataclass
class WindowRead:
    """What reading one window whole found."""

    total: int = 0  # the total openFDA stated for it
    records: int = 0  # records read with their key
    rejected: int = 0  # records without their key
    keys: set[str] = field(default_factory=set)  # their tombstone keys (`EXPORT_KEYS`)


def _read_window(
    dataset: Dataset, client: PublisherClient, *, url: str, search: str, page_size: int
) -> Generator[Any, None, WindowRead]:
    """Every record matching `search`, page after page; returns openFDA's total and the
    keys read."""
    log.info("%s: %s %s", settings.SOURCE, dataset.table, search)
    params: dict[str, Any] | None = {"search": search, "limit": page_size}
    page_url: str | None = url
    page = 0
    read = WindowRead()
    while page_url:
        page += 1
        what = f"page {page} of {dataset.table} {search}"
        response = client.get(page_url, params=params, what=what, accept=(404,))
        if response.status_code == 404:
            if not is_not_found(response):
                raise RequestRejected(
                    settings.SOURCE, what, f"answered 404: {client.scrub(response.text[:300])}"
                )
            break  # nothing (more) matches: an empty window
        if page == 1:
            _, stated = openfda_meta(_json_or_none(response.content))
            read.total = stated or 0
        rows = _page_items(dataset, response.content, url=url, what=what, read=read)
        yield from batches(rows, dataset.raw_table, size=max(page_size, 1), bind=True)  # a page
        log.info("%s: %s, %d records so far", settings.SOURCE, what, read.records)
        # The next page's URL carries `search_after` and every other parameter but the
        # key, which the client adds again.
        next_url = next_page_url(response, drop=(client.api_key_param,))
        if next_url == page_url and params is None:
            raise MalformedInput(settings.SOURCE, what, "the next page is the same page")
        page_url, params = next_url, None
    return read


def _page_items(
    dataset: Dataset, content: bytes, *, url: str, what: str, read: WindowRead
) -> Iterator[Any]:
    """The landing rows of one page, and a reject for each record without its key, each
    counted in `read` (every row yielded lands)."""
    key_column = EXPORT_KEYS[dataset.name][0]
    for record in page_results(content, where=what):
        try:
            row = dataset.row(record, source_uri=url, where=what)
        except MalformedInput as bad:
            read.rejected += 1
            yield reject(bad)
            continue
        read.records += 1
        if row.get(key_column):
            read.keys.add(str(row[key_column]))
        yield row


def _json_or_none(content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None  # page_results says what is wrong with it


# -- bulk ----------------------------------------------------------------------------------


# No `columns` here: it lands three tables, each item bound to its own by `to_table`.
@dlt.resource(name="partitions", write_disposition="append")
def partitions(location: str, datasets: tuple[str, ...], download_dir: str) -> Iterator[Any]:
    """Every partition at `location` not landed yet, one window (and load) per partition.

    `location` is openFDA's download manifest (`.../download.json`: its partitions of
    `datasets` are downloaded one by one), the URL of one partition, or a local partition,
    folder or zip of them. Every file offered is accounted for (`BulkLedger`: a manifest's
    partition keyed by URL and export date, a file by name, CRC and size): a partition is
    recognised by its content (a JSON `results` array whose records are labels, by their
    `set_id`, or NDC products, by their `product_ndc`), whatever it is named; every other
    file is listed as not a release file. A rerun lands nothing, a new export lands anew.
    A partition that cannot be read or parsed is recorded in `raw_openfda.rejects` with
    where it broke and nothing of it lands; the other partitions do.
    """
    state = dlt.current.resource_state()
    legacy = state.pop("landed", {})
    ledger = BulkLedger(settings.SOURCE, state)
    ledger.adopt(legacy)
    downloads = Path(download_dir)
    exports = _Exports(state) if _is_manifest(location) else None
    offered = (
        _manifest_members(location, datasets, downloads, ledger, exports)
        if exports is not None
        else _local_members(location, datasets, downloads, ledger)
    )
    state[MORE_WINDOWS] = False
    done = False
    for key, member, found in offered:
        if isinstance(found, str):
            ledger.not_release_file(member, found)
            continue
        if ledger.has_landed(key):
            ledger.already_landed(member, key)
            continue
        if ledger.was_rejected(member):
            continue
        if done:  # another partition follows: commit this window first
            state[MORE_WINDOWS] = True
            return
        done = True
        named: set[str] = set()
        whole = yield from _land_partition(member, found, key, ledger, named=named)
        if exports is not None and isinstance(found, Dataset):
            yield from exports.partition_read(found, key, named, whole=whole)
    if exports is not None:
        yield from exports.finish(location)


# The natural key a whole export names each record by (the key of the current models).
EXPORT_KEYS = {"label": ("set_id", ("version",)), "ndc": ("product_ndc", ("product_id",))}


class _Exports:
    """Tombstones from whole exports: the manifest states every partition of an
    endpoint's export (`results.drug.<dataset>.partitions`, under one `export_date`).

    How "full" is known: only a manifest lists an endpoint's export whole; a folder, a
    zip or one partition's URL may hold any part of it, so they land no tombstone. An
    export is whole once every partition the manifest lists for it was landed whole in
    this listing (not rejected, no record without its key: such a record's key cannot be
    said to be absent). The keys each partition named are kept in `listed_keys` with its
    window; then each key raw holds as current (landed before the export was first read)
    that the export did not name lands a deletion notice. The state keeps per dataset the
    export being read (`exports`)."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self.kept: dict[str, Any] = state.setdefault("exports", {})
        self.partitions: dict[str, dict[str, list[str]]] = {}  # dataset -> export -> keys
        self.named: dict[str, set[str]] = {}  # dataset -> keys not committed yet

    def listed(self, dataset: str, key: str) -> None:
        """A partition the manifest lists (`key`: `<file>@<export date>`)."""
        export = key.rsplit("@", 1)[-1]
        self.partitions.setdefault(dataset, {}).setdefault(export, []).append(key)

    def _listing(self, dataset: Dataset, export: str) -> Listing:
        slot = f"listing_{dataset.name}"
        kept = self.kept.setdefault(dataset.name, {})
        if kept.get("export") != export:
            self.kept[dataset.name] = kept = {"export": export, "read": [], "problems": []}
            self.state.pop(slot, None)
        listing = Listing.open(
            self.state,
            slot,
            id=f"openFDA drug/{dataset.name} export {export}",
            table=dataset.raw_table.name,
        )
        if not kept["read"] and not kept["problems"]:
            forget_other_listings(listing, f"openFDA drug/{dataset.name} export")
        return listing

    def partition_read(
        self, dataset: Dataset, key: str, named: set[str], *, whole: bool
    ) -> Iterator[Any]:
        export = key.rsplit("@", 1)[-1]
        listing = self._listing(dataset, export)
        kept = self.kept[dataset.name]
        if whole:
            kept["read"].append(key)
        else:
            kept["problems"].append(f"{key} was not landed whole")
        self.named.setdefault(dataset.name, set()).update(named)
        rows = listing.rows(named)
        if rows is not None:
            yield to_table(rows, LISTED)

    def finish(self, location: str) -> Iterator[Any]:
        """The deletion notices of each export read whole and not tombstoned yet."""
        for name, exports in self.partitions.items():
            kept = self.kept.get(name) or {}
            keys = exports.get(kept.get("export", ""), [])
            if not keys or kept.get("done"):
                continue
            if kept["problems"]:
                problem = "; ".join(kept["problems"][:5])
            elif any(key not in kept["read"] for key in keys):
                continue  # partitions of it are still to be read (or were landed before)
            else:
                problem = None
            dataset = DATASETS[name]
            listing = self._listing(dataset, kept["export"])
            kept["done"] = True
            self.state.pop(f"listing_{name}", None)
            if problem:
                yield reject(
                    MalformedInput(
                        settings.SOURCE,
                        listing.id,
                        f"not read whole ({problem}): nothing recorded as deleted",
                    )
                )
                continue
            yield from _tombstones(dataset, listing, self.named.get(name, set()), location)


def _tombstones(
    dataset: Dataset, listing: Listing, named: set[str], location: str
) -> Iterator[Any]:
    key_column, latest = EXPORT_KEYS[dataset.name]
    gone = missing(
        listing,
        key_column=key_column,
        also_listed=named,
        latest_columns=latest,
        scope=(f"{key_column} is not null", ()),
        source=settings.SOURCE,
    )
    if isinstance(gone, MalformedInput):
        log.warning("%s: %s", settings.SOURCE, gone)
        yield reject(gone)
        return
    rows = (
        {
            key_column: key,
            latest[0]: other,
            "record": None,
            "deleted": True,
            "source_uri": f"{location} ({listing.id})",
        }
        for key, (other,) in sorted(gone.items())
    )
    yield from batches(rows, dataset.raw_table, bind=True)


def _is_manifest(location: str) -> bool:
    parts = urlsplit(location)
    return parts.scheme in ("http", "https") and parts.path.endswith(".json")


Found = Dataset | str | None  # the dataset; why it is not a partition; None: unreadable


def _manifest_members(
    location: str,
    datasets: tuple[str, ...],
    downloads: Path,
    ledger: BulkLedger,
    exports: _Exports | None = None,
) -> Iterator[tuple[str, BulkMember, Found]]:
    """The manifest's partitions (each downloaded when its turn comes, unless landed)."""
    client = PublisherClient(settings.SOURCE)
    manifest = client.get_json(location, what="download manifest")
    hosts = parse_hosts(dlt.config.get(f"sources.{settings.SOURCE}.partition_hosts"))
    for partition in manifest_partitions(manifest, datasets, manifest_url=location, hosts=hosts):
        key = f"{partition['file']}@{partition['export_date']}"
        if exports is not None:
            exports.listed(partition["dataset"], key)
        if partition["problem"]:  # rejected, and not asked again while the manifest lists it
            where = f"{client.scrub(location)} drug/{partition['dataset']} {partition['file']}"
            problem = partition["problem"]
            yield key, BulkMember(uri=where[:500], path=downloads, problem=problem), None
            continue
        file_name = Path(urlsplit(partition["file"]).path).name
        if ledger.has_landed(key):  # not downloaded again
            yield key, BulkMember(uri=partition["file"], path=Path(file_name)), None
            continue
        path = resolve_location(
            partition["file"],
            source=settings.SOURCE,
            download_dir=downloads,
            name=f"{partition['dataset']}/{partition['export_date'] or 'undated'}/{file_name}",
        )
        found = False
        for member in ledger.offered(path):  # a zip holds one partition
            recognised = _recognise(member, datasets)
            found = found or not isinstance(recognised, str)
            yield key, member, recognised
        if not found:
            unreadable = BulkMember(
                uri=str(path), path=path, problem="holds no partition of " + "/".join(datasets)
            )
            yield key, unreadable, None


def _local_members(
    location: str, datasets: tuple[str, ...], downloads: Path, ledger: BulkLedger
) -> Iterator[tuple[str, BulkMember, Found]]:
    path = resolve_location(location, source=settings.SOURCE, download_dir=downloads)
    for member in ledger.offered(path):
        yield _identity(member), member, _recognise(member, datasets)


def _recognise(member: BulkMember, datasets: tuple[str, ...]) -> Found:
    """The dataset a member is a partition of, by its records (by its name when it cannot
    be read: it is then rejected); why it is not a partition of `datasets` otherwise."""
    if member.problem:
        return None
    try:
        with member.open() as stream:
            name = partition_dataset(stream)
    except UNREADABLE + (MalformedInput,):
        dataset = dataset_of(member.name)
        if dataset and dataset.name in datasets:
            return dataset
        return "not an openFDA partition (not JSON with a results array)"
    if name is None:
        return "not an openFDA partition (no JSON results array)"
    if name not in datasets:
        return f"an openFDA partition of another dataset ({name or 'not label or ndc'})"
    return DATASETS[name]


def _identity(member: BulkMember) -> str:
    """What tells a partition from another: its name and content (CRC, size)."""
    if member.member is not None:
        return f"{member.name}|{member.member.CRC:08x}|{member.member.file_size}"
    stat = member.path.stat()
    return f"{member.uri}|{member.problem or ''}|{stat.st_size}|{stat.st_mtime_ns}"


def _land_partition(
    member: BulkMember,
    dataset: Dataset | None,
    key: str,
    ledger: BulkLedger,
    *,
    named: set[str] | None = None,
) -> Generator[Any, None, bool]:
    """The landing rows of one partition, or one reject for the whole partition.

    The partition is parsed twice, as a stream: once to check it is whole (a partition
    broken halfway lands nothing, never half of itself), then to land it in batches, so
    memory stays flat whatever its size. A record without its key is rejected alone.
    """
    try:
        if member.problem or dataset is None:
            raise MalformedInput(settings.SOURCE, member.uri, member.problem or "not a partition")
        records = _check_partition(member)
    except MalformedInput as bad:
        ledger.reject(member, bad)
        yield reject(bad)
        return False
    landed, whole = yield from batches(
        _partition_items(member, dataset, named), dataset.raw_table, bind=True
    )
    log.info("%s: %d records of %s", settings.SOURCE, records, member.uri)
    ledger.landed_file(member, key, landed)
    return whole


def _partition_items(
    member: BulkMember, dataset: Dataset, named: set[str] | None
) -> Generator[Any, None, tuple[int, bool]]:
    """The landing rows of a partition, and a reject for each record without its key;
    returns how many rows, and whether no record was rejected."""
    landed = 0
    whole = True
    key_column = EXPORT_KEYS[dataset.name][0]
    with member.open() as stream:
        for index, record in enumerate(iter_partition(stream, where=member.uri), start=1):
            try:
                row = dataset.row(record, source_uri=member.uri, where=f"{member.uri} #{index}")
            except MalformedInput as bad:
                whole = False
                yield reject(bad)
                continue
            landed += 1
            if named is not None and row.get(key_column):
                named.add(row[key_column])
            yield row
    return landed, whole


def _check_partition(member: BulkMember) -> int:
    """The number of records in a partition that parses to its end."""
    try:
        with member.open() as stream:
            return sum(1 for _ in iter_partition(stream, where=member.uri))
    except UNREADABLE as broken:
        raise MalformedInput(settings.SOURCE, member.uri, f"cannot read: {broken}") from None


__all__ = ["DATASETS", "SPEC", "labels", "ndc", "openfda", "partitions"]


SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=openfda,
    raw_tables=(LABELS.raw_table, NDC.raw_table, LISTED),
    status_table=LABELS.table,
    cursor_column="effective_time",
    samples=SAMPLES_DIR / "openfda",  # feeds the drug marts, listed under dailymed
)
