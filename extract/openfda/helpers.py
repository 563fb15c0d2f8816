"""Parsing and paging particular to openFDA: landing rows of label and NDC records, the
`search` windows, the `Link` header's next page, and the bulk partitions read as a stream.
"""

from __future__ import annotations

import gzip
import logging
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import ijson
import orjson
import pyarrow as pa
import requests

from extract.errors import MalformedInput
from extract.hosts import Host, host_of
from extract.jsonsafety import DepthChecked
from extract.openfda.settings import DATE_FORMAT, OPEN_END, SOURCE
from extract.raw import RawTable

log = logging.getLogger(__name__)

# A bulk partition's file name: `drug-label-0001-of-0013.json(.zip)`, `drug-ndc-...`.
PARTITION_NAME = re.compile(r"drug-(?P<dataset>label|ndc)-\d+-of-\d+")
# The whole name of a partition file a manifest may point at (it becomes a file name).
PARTITION_FILE = re.compile(r"drug-(?P<dataset>[a-z]+)-\d{1,6}-of-\d{1,6}\.json(?:\.zip)?")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# What a broken archive or compressed stream raises while a member is read.
UNREADABLE = (zipfile.BadZipFile, EOFError, zlib.error, gzip.BadGzipFile, OSError)


@dataclass(frozen=True)
class Dataset:
    """One openFDA endpoint and the raw table its records land in."""

    name: str  # openFDA's name: the manifest's results.drug.<name>, the partition files'
    raw_table: RawTable  # `raw_openfda.<table>`
    cursor: str  # the record's date field the API is searched and landed on
    row: Callable[..., dict[str, Any]]  # record -> landing row

    @property
    def table(self) -> str:
        return self.raw_table.name


def openfda_date(value: Any, *, field: str, where: str) -> date | None:
    """openFDA's YYYYMMDD date (`"20140423"`) as a date; absent or of another shape None:
    the record lands all the same, its date as written in `record` (counted in
    `ops.openfda_data_quality`), rather than being rejected for a date nobody expected."""
    if value in (None, ""):
        return None
    try:
        return datetime.strptime(str(value), DATE_FORMAT).date()
    except ValueError:
        log.warning(
            "%s: %s: %s %r is not a YYYYMMDD date (landed as written)", SOURCE, where, field, value
        )
        return None


def label_row(record: Any, *, source_uri: str, where: str) -> dict[str, Any]:
    """The landing row of one /drug/label record (key `set_id` + `version`)."""
    if not isinstance(record, dict):
        raise MalformedInput(SOURCE, where, "a label that is not a JSON object")
    set_id, version = record.get("set_id"), record.get("version")
    if not set_id or version in (None, ""):
        raise MalformedInput(
            SOURCE, f"{where} label {record.get('id') or '?'}", "a label without set_id or version"
        )
    return {
        "set_id": str(set_id),
        "version": str(version),
        "effective_time": openfda_date(
            record.get("effective_time"), field="effective_time", where=f"{where} {set_id}"
        ),
        "record": orjson.dumps(record).decode(),
        "source_uri": source_uri,
        "deleted": False,
    }


def ndc_row(record: Any, *, source_uri: str, where: str) -> dict[str, Any]:
    """The landing row of one /drug/ndc product (key `product_id`: product NDC + SPL id)."""
    if not isinstance(record, dict):
        raise MalformedInput(SOURCE, where, "an NDC product that is not a JSON object")
    product_id = record.get("product_id")
    if not product_id:
        raise MalformedInput(
            SOURCE,
            f"{where} product {record.get('product_ndc') or '?'}",
            "an NDC product without product_id",
        )
    return {
        "product_id": str(product_id),
        "product_ndc": record.get("product_ndc"),
        "listing_expiration_date": openfda_date(
            record.get("listing_expiration_date"),
            field="listing_expiration_date",
            where=f"{where} {product_id}",
        ),
        "record": orjson.dumps(record).decode(),
        "source_uri": source_uri,
        "deleted": False,
    }


LABELS = Dataset(
    name="label",
    # dbt's current-version models look records up by key.
    raw_table=RawTable(
        "labels",
        (
            pa.field("set_id", pa.string(), nullable=False),
            pa.field("version", pa.string(), nullable=False),
            pa.field("effective_time", pa.date32()),
        ),
        indexes=(("set_id", "_dlt_load_id"),),
        record_paths=(
            ("set_id", "set_id"),
            ("version", "version"),
            ("effective_time", "effective_time"),
        ),
    ),
    cursor="effective_time",
    row=label_row,
)
NDC = Dataset(
    name="ndc",
    raw_table=RawTable(
        "ndc",
        (
            pa.field("product_id", pa.string(), nullable=False),
            pa.field("product_ndc", pa.string()),
            pa.field("listing_expiration_date", pa.date32()),
        ),
        indexes=(("product_ndc", "_dlt_load_id"),),
        record_paths=(
            ("product_id", "product_id"),
            ("product_ndc", "product_ndc"),
            ("listing_expiration_date", "listing_expiration_date"),
        ),
    ),
    cursor="listing_expiration_date",
    row=ndc_row,
)
DATASETS = {dataset.name: dataset for dataset in (LABELS, NDC)}


def dataset_of(name: str) -> Dataset | None:
    """The dataset a partition file belongs to, by its name (None: not a partition)."""
    match = PARTITION_NAME.search(name)
    return DATASETS[match["dataset"]] if match else None


# -- the API ----------------------------------------------------------------------------


def window_search(field: str, start: date, end: date | None) -> str:
    """The `search` expression for records whose `field` lies in [start, end] (open: None)."""
    upper = end.strftime(DATE_FORMAT) if end else OPEN_END
    return f"{field}:[{start.strftime(DATE_FORMAT)} TO {upper}]"


def is_not_found(response: requests.Response) -> bool:
    """openFDA's answer to a search that matches nothing: 404 `{"error": {"code": "NOT_FOUND"}}`."""
    if response.status_code != 404:
        return False
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return False
    return isinstance(body, dict) and (body.get("error") or {}).get("code") == "NOT_FOUND"


def page_results(content: bytes, *, where: str) -> list[Any]:
    """The `results` of an API page (`{meta, results: [...]}`)."""
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as bad:
        raise MalformedInput(SOURCE, where, f"the page is not JSON: {bad}") from None
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        raise MalformedInput(SOURCE, where, "the page has no results array")
    return document["results"]


def next_page_url(response: requests.Response, *, drop: tuple[str, ...] = ()) -> str | None:
    """The `Link: <...>; rel="next"` URL of a page (it carries `search_after`), without the
    query parameters in `drop` (the API key, which the client adds itself)."""
    url = response.links.get("next", {}).get("url")
    if not url:
        return None
    parts = urlsplit(url)
    query = [(name, value) for name, value in parse_qsl(parts.query) if name not in drop]
    return urlunsplit(parts._replace(query=urlencode(query)))


# -- bulk partitions --------------------------------------------------------------------


class _CountingReader:
    """A binary stream that counts the bytes read from it (for positions in errors)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.position += len(chunk)
        return chunk


def iter_partition(stream: BinaryIO, *, where: str) -> Iterator[Any]:
    """The `results` items of a partition document, parsed one at a time (a partition is
    about 150 MB of JSON: never read whole). A broken document raises `MalformedInput`
    naming the record and the byte offset where it broke."""
    reader = _CountingReader(DepthChecked(stream, source=SOURCE, where=where))
    count = 0
    try:
        for record in ijson.items(reader, "results.item", use_float=True):
            count += 1
            yield record
    except (ijson.JSONError, UnicodeDecodeError) as broken:
        raise MalformedInput(
            SOURCE,
            where,
            f"broken JSON after record {count}, within the first {reader.position} bytes: "
            + " ".join(str(broken).split()),
        ) from None
    if count == 0:
        raise MalformedInput(SOURCE, where, "holds no records under `results`")


# The first field of a record that tells which dataset a partition holds.
DATASET_FIELDS = {"set_id": "label", "product_ndc": "ndc", "product_id": "ndc"}


def partition_dataset(stream: BinaryIO) -> str | None:
    """Which dataset a partition holds, by its content: a JSON object with a `results`
    array whose first record names a label's `set_id` (`label`) or a product's
    `product_ndc` (`ndc`); `""` for the records of another dataset (drug events, drugs@FDA);
    None for a document that is not an openFDA results document. Reads only as far as the
    first record; `MalformedInput` when the JSON breaks before it tells."""
    events = ijson.parse(DepthChecked(stream, source=SOURCE, where="partition"))
    try:
        first = next(events, None)
        if first is None or first[:2] != ("", "start_map"):
            return None
        for prefix, event, value in events:
            if prefix == "results" and event != "start_array":
                return None  # `results` that is not an array: a manifest, an error
            if prefix == "results" and event == "end_array":
                return ""  # no records
            if prefix == "results.item" and event == "map_key" and value in DATASET_FIELDS:
                return DATASET_FIELDS[value]
            if prefix == "results.item" and event == "end_map":
                return ""  # a record of another dataset
            if prefix == "" and event == "end_map":
                return None
    except (ijson.JSONError, UnicodeDecodeError) as broken:
        raise MalformedInput(SOURCE, "partition", f"broken JSON: {broken}") from None
    return None


def manifest_partitions(
    manifest: Any,
    datasets: tuple[str, ...],
    *,
    manifest_url: str,
    hosts: frozenset[Host] = frozenset(),
) -> list[dict[str, str]]:
    """The partitions the download manifest lists for `datasets`, in its order: each with
    its dataset, file URL and export date, and `problem` when the entry cannot be trusted
    (a date that is not YYYY-MM-DD, a file that is not a partition of its dataset, a URL
    on a host that is neither FDA's over https, the manifest's own, nor one of `hosts`):
    such an entry is rejected, never downloaded."""
    drug = (manifest.get("results") or {}).get("drug") if isinstance(manifest, dict) else None
    if not isinstance(drug, dict):
        raise MalformedInput(SOURCE, "download manifest", "no results.drug in the manifest")
    partitions = []
    for name in datasets:
        listing = drug.get(name) or {}
        if not isinstance(listing, dict):
            continue
        export_date = str(listing.get("export_date") or "")
        for partition in listing.get("partitions") or []:
            if isinstance(partition, dict) and partition.get("file"):
                file = str(partition["file"])
                partitions.append(
                    {
                        "dataset": name,
                        "file": file,
                        "export_date": export_date,
                        "problem": _partition_problem(
                            name, file, export_date, manifest_url=manifest_url, hosts=hosts
                        )
                        or "",
                    }
                )
    return partitions


def _partition_problem(
    dataset: str, file: str, export_date: str, *, manifest_url: str, hosts: frozenset[Host]
) -> str | None:
    """Why a manifest entry is not downloaded (None: it is a partition of FDA's)."""
    if export_date and not _is_iso_date(export_date):
        return f"export_date {export_date[:80]!r} is not a YYYY-MM-DD date"
    parts = urlsplit(file)
    name = parts.path.rsplit("/", 1)[-1]
    found = PARTITION_FILE.fullmatch(name)
    if not found or found["dataset"] != dataset:
        return f"{name[:80]!r} is not a partition file of drug/{dataset}"
    host = host_of(file)
    fda = parts.scheme == "https" and host is not None and _is_fda_host(host[0])
    if not (fda or host == host_of(manifest_url) or host in hosts):
        return (
            f"the partition is on {parts.scheme}://{parts.netloc}, not on FDA's https hosts "
            "(*.fda.gov), the manifest's host or one in [sources.openfda] partition_hosts"
        )
    return None


def _is_iso_date(value: str) -> bool:
    if not ISO_DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_fda_host(host: str) -> bool:
    return host == "fda.gov" or host.endswith(".fda.gov")
