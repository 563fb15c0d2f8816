"""Tombstones: a deletion notice for a record the publisher no longer has.

A publisher that withdraws a record rarely says so: the record is simply gone from its
next full listing (DailyMed's whole SPL list, a full release set, every partition of an
openFDA export, a newer FoodData Central release of a data type). Only a *complete*
listing can say a record is gone: a page, a window, an incremental list or one part of a
release says nothing about what it does not hold. So a source that lands tombstones

1. opens a *listing* (`Listing`, kept in its resource state) when it starts reading
   something it knows to be complete, recording when it started (a load id cutoff);
2. lands the natural keys it reads into `raw_<source>.listed_keys` (one row per key and
   listing, committed with the window that read them, so a listing read over many
   windows, or resumed after a kill, loses none);
3. once the whole listing was read (every page to the last, every part of the set), asks
   `missing` for the keys raw holds as current (latest landing not a deletion, landed
   before the listing started) that the listing did not name, and lands a deletion
   notice for each (`deleted` = true, the same natural key, no record).

A listing that names far fewer keys than raw holds is more likely a broken listing than a
mass withdrawal: past `max_missing_share` of the current keys (and at least
`MIN_KEYS_FOR_SHARE` of them) nothing is tombstoned and one reject says why. A key the
publisher brings back lands again as a new version and is current again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import dlt
import pyarrow as pa

from extract.errors import MalformedInput
from extract.raw import RawTable

log = logging.getLogger(__name__)

# The keys each complete listing named: what tombstones are computed against.
LISTED = RawTable(
    "listed_keys",
    (
        pa.field("listing", pa.string(), nullable=False),
        pa.field("table_name", pa.string(), nullable=False),
        pa.field("key", pa.string(), nullable=False),
    ),
    indexes=(("listing", "table_name", "key"),),
    contract=False,
)
MAX_MISSING_SHARE = 0.2  # above this share of current keys missing: refuse, not tombstone
MIN_KEYS_FOR_SHARE = 10  # fewer current keys than this: the share is not checked


@dataclass(frozen=True)
class Listing:
    """One complete listing in progress: its id (what it lists, e.g. an export date) and
    the load id before which a key must have landed to be tombstoned by it."""

    id: str
    table: str
    since: str

    @classmethod
    def open(cls, state: dict[str, Any], slot: str, *, id: str, table: str) -> Listing:
        """The listing `id` kept in `state[slot]`, opened now if it is another one."""
        kept = state.get(slot)
        if isinstance(kept, dict) and kept.get("id") == id and kept.get("table") == table:
            return cls(id=id, table=table, since=kept["since"])
        listing = cls(id=id, table=table, since=f"{time.time():.6f}")
        state[slot] = {"id": listing.id, "table": listing.table, "since": listing.since}
        return listing

    def rows(self, keys: Iterable[str]) -> pa.Table | None:
        """The `listed_keys` rows of `keys` (None when there are none)."""
        unique = sorted(set(keys))
        if not unique:
            return None
        return pa.Table.from_pydict(
            {
                "listing": [self.id] * len(unique),
                "table_name": [self.table] * len(unique),
                "key": unique,
            },
            schema=LISTED.schema,
        )


def missing(
    listing: Listing,
    *,
    key_column: str,
    also_listed: Iterable[str] = (),
    latest_columns: tuple[str, ...] = (),
    scope: tuple[str, tuple[Any, ...]] | None = None,
    source: str,
    expected: int | None = None,
    max_missing_share: float = MAX_MISSING_SHARE,
) -> dict[str, tuple] | MalformedInput:
    """Key -> its latest landing's `latest_columns`, for each key raw holds as current
    (latest landing not a deletion notice, landed before the listing started, within
    `scope`: an SQL condition on the raw table and its parameters) that the listing did
    not name (`listed_keys` of the listing, and `also_listed`, the keys of the window not
    committed yet). A `MalformedInput` instead when too many are missing to be believed,
    or when the listing named fewer keys than the publisher said it holds (`expected`: a
    page that shifted while it was read lost some)."""
    pipeline = dlt.current.pipeline()
    named = set(also_listed)
    condition, parameters = scope or ("true", ())
    with pipeline.sql_client() as sql:
        if not sql.has_dataset():
            return {}
        table = sql.make_qualified_table_name(listing.table)
        listed = sql.make_qualified_table_name(LISTED.name)
        extra = "".join(f", {column}" for column in latest_columns)
        # Table and column names are the declared ones (dlt's quoted table names).
        current = sql.execute_sql(
            f"""
            select {key_column}::text, deleted, _dlt_load_id{extra} from (
                select distinct on ({key_column}) *
                from {table}
                where {condition}
                order by {key_column}, _dlt_load_id desc, deleted desc
            ) as latest
            """,  # noqa: S608
            *parameters,
        )
        rows = sql.execute_sql(
            f"select key from {listed} where listing = %s and table_name = %s",  # noqa: S608
            listing.id,
            listing.table,
        )
    named.update(row[0] for row in rows or [])
    if expected is not None and len(named) < expected:
        return MalformedInput(
            source,
            listing.id,
            f"the listing named {len(named)} {listing.table} of the {expected} the publisher "
            "stated: not complete, nothing recorded as deleted",
        )
    live = [row for row in current or [] if not row[1] and float(row[2]) < float(listing.since)]
    gone = {row[0]: tuple(row[3:]) for row in live if row[0] not in named}
    if len(live) >= MIN_KEYS_FOR_SHARE and len(gone) > max_missing_share * len(live):
        return MalformedInput(
            source,
            listing.id,
            f"{len(gone)} of the {len(live)} current {listing.table} are missing from this "
            "complete listing: refusing to record them as deleted (a broken listing is "
            "likelier than so many withdrawals)",
        )
    log.info(
        "%s: %d of %d current %s are gone from %s: landing their deletion notices",
        source,
        len(gone),
        len(live),
        listing.table,
        listing.id,
    )
    return gone


def forget_other_listings(listing: Listing, kind: str) -> None:
    """Remove the keys earlier listings of the same kind (ids starting with `kind`) and
    table named: they served their tombstones. Another kind's listing in progress (the
    whole API list while a release set is read) keeps its keys."""
    pipeline = dlt.current.pipeline()
    with pipeline.sql_client() as sql:
        if not sql.has_dataset():
            return
        listed = sql.make_qualified_table_name(LISTED.name)
        try:
            sql.execute_sql(
                f"delete from {listed} "  # noqa: S608
                "where table_name = %s and listing <> %s and starts_with(listing, %s)",
                listing.table,
                listing.id,
                kind,
            )
        except Exception as absent:  # the table is created with the first rows landed
            if "does not exist" not in str(absent):
                raise
