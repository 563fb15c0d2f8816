"""RxNav (NLM's RxNorm and RxClass APIs): RxNorm ids, ingredients and drug classes for the
NDCs and drug names the other drug sources landed.

An enrichment source: it reads the warehouse to decide what to ask. One resource,
`lookups`, takes the values of the one dbt view built for it (`staging.int_rxnav_lookups`:
Orange Book ingredients, DailyMed and openFDA NDCs and names), leaves out those RxNav
answered less than `refresh_days` ago, and asks about the rest, each answer landing as one
row (the lookup's key, `fetched_at`, the answer unchanged in `record`, the request URL in
`source_uri`):

- `raw_rxnav.ndc_rxcuis` (key `ndc`): `/rxcui.json?idtype=NDC&id=...`
- `raw_rxnav.name_rxcuis` (key `name`, `search`): `/rxcui.json?name=...&search=2` (exact,
  else normalised match), and for a name it does not find `search=9` (approximate match)
- `raw_rxnav.related_ingredients` (key `rxcui`): `/rxcui/{rxcui}/allrelated.json` for each
  RxNorm id those answers found (staging keeps the IN, MIN and PIN concepts)
- `raw_rxnav.drug_classes` (key `rxcui`, `rela_source`):
  `/rxclass/class/byRxcui.json?rxcui=...&relaSource=...` for each id and each of
  `settings.CLASS_RELA_SOURCES` (DAILYMED: EPC, MoA, PE; ATC: ATC1-4)
- `raw_rxnav.rejects`: an answer that is not what the lookup expects, or a request RxNav
  refused, named by its lookup; the rest lands and the lookup is asked again next run.

The cursor is the data itself: `fetched_at` of the landed answers (an answer that found
nothing lands too, so it is not asked again until it is `refresh_days` old). Lookups run
in windows of `lookups_per_window`, each committed on its own, so a crash loses at most
one window and a rerun asks only what no committed window answered.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
from dlt.sources import DltResource

from extract.errors import MalformedInput, RequestRejected
from extract.http import PublisherClient
from extract.landing import MORE_WINDOWS, batches, reject
from extract.rxnav import settings
from extract.rxnav.helpers import (
    APPROXIMATE,
    BEST_MATCH,
    DRUG_CLASSES,
    NAME,
    NAME_RXCUIS,
    NDC,
    NDC_RXCUIS,
    RELATED_INGREDIENTS,
    TABLES,
    Lookup,
    Table,
    answer_row,
    is_throttled,
    normalise_name,
    normalise_ndc,
    parse_answer,
    rxcuis_in,
)
from extract.spec import SourceSpec

log = logging.getLogger(__name__)


@dlt.source(name=settings.SOURCE)
def rxnav(
    api_url: str = settings.API_URL,
    refresh_days: int = settings.REFRESH_DAYS,
    lookups_per_window: int = settings.LOOKUPS_PER_WINDOW,
    approximate_match: bool = settings.APPROXIMATE_MATCH,
    class_rela_sources: list[str] | None = None,
    bulk_location: str | None = None,
    download_dir: str | None = None,
) -> DltResource:
    """The lookups the warehouse needs next. RxNav has no bulk release (RxNorm's full
    monthly files need a UMLS licence), so a `bulk_location` is refused."""
    if bulk_location:
        raise ValueError(
            f"{settings.SOURCE}: no bulk files: RxNav answers live lookups only "
            "(RxNorm's own release files need a UMLS licence)"
        )
    return lookups(
        api_url=api_url,
        refresh_days=refresh_days,
        lookups_per_window=lookups_per_window,
        approximate_match=approximate_match,
        class_rela_sources=list(class_rela_sources or settings.CLASS_RELA_SOURCES),
    )


# No `columns` here: it lands five tables, each item bound to its own by `to_table`.
@dlt.resource(name="lookups", table_name=NDC_RXCUIS.name, write_disposition="append")
def lookups(
    api_url: str = settings.API_URL,
    refresh_days: int = settings.REFRESH_DAYS,
    lookups_per_window: int = settings.LOOKUPS_PER_WINDOW,
    approximate_match: bool = settings.APPROXIMATE_MATCH,
    class_rela_sources: list[str] | None = None,
) -> Iterator[Any]:
    """The next window of lookups: NDCs and names first, then the RxNorm ids they found.

    Ids found in this window are asked about in the next one (what they come from is
    committed first); the run goes on while a window was full or found ids.
    """
    state = dlt.current.resource_state()
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=refresh_days)
    size = max(lookups_per_window, 1)
    rela_sources = list(class_rela_sources or settings.CLASS_RELA_SOURCES)
    # Lookups rejected earlier in this run are asked again in the next run, not the next
    # window (a window of nothing but rejects would otherwise come back forever).
    rejected: list[str] = state.setdefault("rejected_this_run", [])
    pending = _pending_lookups(cutoff, rela_sources, skip=set(rejected), limit=size + 1)
    window, more = pending[:size], len(pending) > size
    if not window:
        log.info(
            "%s: nothing to look up (every candidate answered since %s)", settings.SOURCE, cutoff
        )
        state[MORE_WINDOWS] = False
        state["rejected_this_run"] = []
        return
    log.info("%s: %d lookups in this window", settings.SOURCE, len(window))
    client = PublisherClient(settings.SOURCE, throttled=is_throttled)
    found_ids = yield from batches(
        _answers(client, window, api_url, rejected=rejected, approximate_match=approximate_match),
        *TABLES,
    )
    state[MORE_WINDOWS] = more or found_ids
    if not state[MORE_WINDOWS]:
        state["rejected_this_run"] = []


def _answers(
    client: PublisherClient,
    window: list[Lookup],
    api_url: str,
    *,
    rejected: list[str],
    approximate_match: bool,
) -> Generator[Any, None, bool]:
    """The answer row of each lookup of `window` as `(table, row)` (and of the approximate
    match a name without a best match asks next), and a reject for each lookup that
    failed, named in `rejected`; returns whether an answer found RxNorm ids."""
    found_ids = False
    for lookup in window:
        asked = [lookup]
        while asked:
            current = asked.pop(0)
            try:
                row, document = _ask(client, current, api_url)
            except (MalformedInput, RequestRejected) as bad:
                rejected.append(current.what)
                yield reject(bad)
                continue
            found = rxcuis_in(document) if current.table in (NDC_RXCUIS, NAME_RXCUIS) else []
            found_ids = found_ids or bool(found)
            if current.table is NAME_RXCUIS and not found and approximate_match:
                if current.key[1] == BEST_MATCH:
                    asked.append(Lookup(NAME_RXCUIS, (current.key[0], APPROXIMATE)))
            yield current.table, row
    return found_ids


def _ask(client: PublisherClient, lookup: Lookup, api_url: str) -> tuple[dict, dict]:
    url, params = lookup.request(api_url)
    fetched_at = datetime.now(UTC)
    response = client.get(url, params=params, what=lookup.what)
    document = parse_answer(lookup, response.content)
    row = answer_row(
        lookup, content=response.content, source_uri=response.url, fetched_at=fetched_at
    )
    return row, document


# -- what to ask ------------------------------------------------------------------------------


def _pending_lookups(
    cutoff: datetime, rela_sources: list[str], *, skip: set[str], limit: int
) -> list[Lookup]:
    """Up to `limit` lookups no answer since `cutoff` covers (NDCs, names, then RxNorm
    ids), leaving out those named in `skip`."""
    pipeline = dlt.current.pipeline()
    with pipeline.sql_client() as sql:
        answered = {table.name: _answered_since(sql, table, cutoff) for table in TABLES}
        wanted = _candidate_values(sql)
        found_ids = _found_rxcuis(sql)
    pending: list[Lookup] = []
    for ndc in sorted(wanted[NDC]):
        if (ndc,) not in answered[NDC_RXCUIS.name]:
            pending.append(Lookup(NDC_RXCUIS, (ndc,)))
    names_answered = {key[0] for key in answered[NAME_RXCUIS.name]}
    for name in sorted(wanted[NAME]):
        if name not in names_answered:
            pending.append(Lookup(NAME_RXCUIS, (name, BEST_MATCH)))
    for rxcui in sorted(found_ids, key=lambda rxcui: (len(rxcui), rxcui)):
        if (rxcui,) not in answered[RELATED_INGREDIENTS.name]:
            pending.append(Lookup(RELATED_INGREDIENTS, (rxcui,)))
        for rela_source in rela_sources:
            if (rxcui, rela_source) not in answered[DRUG_CLASSES.name]:
                pending.append(Lookup(DRUG_CLASSES, (rxcui, rela_source)))
        if len(pending) >= limit + len(skip):
            break
    return [lookup for lookup in pending if lookup.what not in skip][:limit]


def _answered_since(sql: Any, table: Table, cutoff: datetime) -> set[tuple]:
    """The keys of `table` answered after `cutoff` (empty before the first load)."""
    if not _relation_exists(sql, pipeline_schema(sql), table.name):
        return set()
    keys = ", ".join(f'"{field.name}"' for field in table.keys)
    qualified = sql.make_qualified_table_name(table.name)
    rows = sql.execute_sql(
        f"select distinct {keys} from {qualified} where fetched_at >= %s",  # noqa: S608
        cutoff,
    )
    return {tuple(row) for row in rows or []}


def _found_rxcuis(sql: Any) -> set[str]:
    """The RxNorm ids the latest answer about each NDC and name found."""
    found: set[str] = set()
    for table, key in ((NDC_RXCUIS, "ndc"), (NAME_RXCUIS, "name, search")):
        if not _relation_exists(sql, pipeline_schema(sql), table.name):
            continue
        qualified = sql.make_qualified_table_name(table.name)
        rows = sql.execute_sql(
            f"""
            select distinct jsonb_array_elements_text(record -> 'idGroup' -> 'rxnormId')
            from (
                select distinct on ({key}) record
                from {qualified}
                order by {key}, fetched_at desc
            ) as latest
            where jsonb_typeof(record -> 'idGroup' -> 'rxnormId') = 'array'
            """  # noqa: S608 - dlt's quoted identifier and fixed key columns
        )
        found.update(row[0] for row in rows or [])
    return found


def _candidate_values(sql: Any) -> dict[str, set[str]]:
    """The normalised NDCs and names of the lookup view (none while dbt has not built it)."""
    wanted: dict[str, set[str]] = {NDC: set(), NAME: set()}
    schema, view = settings.LOOKUPS_RELATION
    problem = _unreadable(sql, schema, view)
    if problem:
        # Before the first `dbt build` it does not exist; an unreadable one needs a grant.
        level = logging.WARNING if "may not read" in problem else logging.INFO
        log.log(level, "%s: nothing to look up: %s.%s %s", settings.SOURCE, schema, view, problem)
        return wanted
    rows = sql.execute_sql(
        f'select lookup_kind, lookup_value from "{schema}"."{view}"'  # noqa: S608 - constants
    )
    for kind, value in rows or []:
        if kind not in wanted or value is None:
            continue
        normalised = normalise_ndc(value) if kind == NDC else normalise_name(value)
        if normalised:
            wanted[kind].add(normalised)
    log.info(
        "%s: %d NDCs and %d names in %s.%s",
        settings.SOURCE,
        len(wanted[NDC]),
        len(wanted[NAME]),
        schema,
        view,
    )
    return wanted


def _unreadable(sql: Any, schema: str, relation: str) -> str | None:
    """Why the lookup view cannot be read (None when it can)."""
    rows = sql.execute_sql(
        """
        select has_schema_privilege(namespace.oid, 'usage')
            and has_table_privilege(relation.oid, 'select')
        from pg_catalog.pg_class as relation
        join pg_catalog.pg_namespace as namespace on namespace.oid = relation.relnamespace
        where namespace.nspname = %s and relation.relname = %s
        """,
        schema,
        relation,
    )
    if not rows:
        return "does not exist: dbt has not built it yet"
    if not rows[0][0]:
        return "the role running the extract may not read it"
    return None


def _relation_exists(sql: Any, schema: str, table: str) -> bool:
    rows = sql.execute_sql(
        """
        select 1 from pg_catalog.pg_class as relation
        join pg_catalog.pg_namespace as namespace on namespace.oid = relation.relnamespace
        where namespace.nspname = %s and relation.relname = %s
        """,
        schema,
        table,
    )
    return bool(rows)


def pipeline_schema(sql: Any) -> str:
    return sql.dataset_name


# RxNav enriches what the drug sources landed: it stays after them in the registry (a
# refresh of every source extracts in that order). No samples: RxNorm's offline release
# needs a UMLS licence, and RxNav answers only live lookups.
SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=rxnav,
    raw_tables=TABLES,
    status_table=NAME_RXCUIS.name,
    cursor_column="fetched_at",  # RxNorm ids and RxClass classes of the drug marts
)
