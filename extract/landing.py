"""The raw landing contract, and the runner that lands a source window by window.

Every resource lands one append-only table `raw_<source>.<entity>` holding the natural
key(s), the cursor, `record` (the publisher's document as jsonb), `source_uri`,
`deleted` and dlt's `_dlt_load_id`/`_dlt_id` (see ARCHITECTURE.md). Resources yield
Arrow tables built by `batches`: they skip dlt's row-by-row normalisation and are
loaded with `COPY` (the csv loader), the fastest way into PostgreSQL.

Long pulls run in windows. A resource that stopped at the end of a window sets
`more_windows` in its resource state; `land()` commits that window (data and state in one
load) and runs the source again until no resource has more, so a crash loses at most the
window in flight.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import dlt
import pyarrow as pa
from dlt.common.pipeline import LoadInfo
from dlt.extract.hints import HintsMeta
from dlt.extract.source import DltSource
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.helpers import pipeline_drop

from extract.bulk import FileAccount, NoReleaseFiles, close_account, open_account
from extract.errors import ExtractError
from extract.parallel import parsing
from extract.publication import PUBLICATION
from extract.raw import REJECTS, RawTable
from extract.storable import Limits, unstorable_rows
from extract.tombstones import LISTED
from extract.versions import contract_tables, drop_repeated_versions, ensure_hash_columns
from medmirror.settings import ConnectionInfo

log = logging.getLogger(__name__)


class _ExpectedArrowHintWarning(logging.Filter):
    """dlt warns that Arrow's `string` differs from the `json` hint of `record`: by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "when merging arrow schema with dlt schema" not in record.getMessage()


logging.getLogger("dlt").addFilter(_ExpectedArrowHintWarning())

MORE_WINDOWS = "more_windows"
MAX_WINDOWS = 100_000
BATCH_ROWS = 2_000
# A batch of whole documents is bounded by its bytes too (`batches(max_bytes=...)`): 2,000
# DailyMed prescription labels are about 200 MB of JSON, copied into Arrow, dlt's buffer
# and its files before the next batch starts (BENCHMARKS.md, "Peak memory of an extract").
BATCH_BYTES = 16 * 2**20


def reject(error: ExtractError, position: str | None = None) -> Any:
    """A bad input (unreadable file, malformed document) for `raw_<source>.rejects`.

    Bulk resources yield it instead of failing the window: the rest of the release lands,
    and the reject is committed with the window it belongs to. `position` says where in
    the file or record the problem is, when known.
    """
    log.warning("%s (skipped, recorded in raw_%s.%s)", error, error.source, REJECTS.name)
    return rejects_table([error.where], [error.problem], [position])


def rejects_table(uris: list[str], problems: list[str], positions: list[str | None]) -> Any:
    """Rows of `raw_<source>.rejects`, bound to that table."""
    now = datetime.now(UTC)
    rows = {
        "source_uri": uris,
        "problem": problems,
        "position": positions,
        "rejected_at": [now] * len(uris),
    }
    return to_table(pa.Table.from_pydict(rows, schema=REJECTS.schema), REJECTS)


def to_table(item: Any, table: RawTable) -> Any:
    """`item` bound for the raw `table` with its own column hints.

    A resource that lands more than one table (its records and its rejects) declares no
    columns itself and binds each item this way: dlt merges a resource's column hints
    into every table it writes, which would give the rejects the records' columns.
    """
    return dlt.mark.with_hints(
        item,
        dlt.mark.make_hints(
            table_name=table.name, write_disposition="append", columns=table.columns
        ),
        create_table_variant=True,
    )


def batches(
    items: Iterable[Any],
    *tables: RawTable,
    size: int = BATCH_ROWS,
    max_bytes: int | None = None,
    bind: bool = False,
) -> Generator[Any, None, Any]:
    """Everything `items` yields, in order, with its landing rows collected into Arrow
    tables: the one way rows become batches, so no row is left behind in a batch nobody
    lands. `items` is usually the resource's own loop written as a generator, and the
    resource ends with `yield from batches(...)`. What it yields:

    - a row (a dict) of `tables[0]`, the only table given;
    - `(table, row)`, a row of one of several `tables` (a resource that lands several raw
      tables from one stream);
    - a list of rows (either form), one item's rows: a batch ends only after a list, so
      each item's rows are in one batch;
    - anything else (a reject, a table made elsewhere), handed on at once, as it is.

    A table's rows are handed on as an Arrow table of its schema once they are `size`
    rows, or sooner, with `max_bytes`, once their text (str and bytes values) reaches that
    many bytes; the rest of every table (in the order of `tables`) when `items` ends, or
    when it raises: the rows before an error are handed on, then the error goes on, so a
    caller that catches it (a file broken halfway) lands them. Batches of several tables
    are bound to their own (`to_table`), those of one table too with `bind`. Returns what
    `items` returned (`complete = yield from batches(window.read(...), ...)`).
    """
    if not tables:
        raise TypeError("batches() needs the raw table(s) its rows are for")
    several = len(tables) > 1
    pending = {table.name: _Batch(table, size, max_bytes) for table in tables}

    def take(batch: _Batch) -> Iterator[Any]:
        table = batch.take()
        if table is not None:
            yield to_table(table, batch.table) if bind or several else table

    def rest() -> Iterator[Any]:
        for batch in pending.values():
            yield from take(batch)

    def add(row: Any) -> _Batch:
        if not (_is_tagged_row(row) if several else isinstance(row, dict)):
            form = "as (table, row)" if several else "as dicts"
            raise TypeError(f"rows for {[table.name for table in tables]} come {form}")
        table, values = row if several else (tables[0], row)
        batch = pending.get(table.name)
        if batch is None:
            raise TypeError(f"a row for {table.name}, not one of the tables batched here")
        batch.add(values)
        return batch

    iterator = iter(items)
    try:
        while True:
            try:
                item = next(iterator)
            except StopIteration as end:
                yield from rest()
                return end.value
            except Exception:
                yield from rest()
                raise
            if isinstance(item, list):
                for batch in dict.fromkeys([add(row) for row in item]):
                    if batch.full:
                        yield from take(batch)
            elif isinstance(item, dict) or _is_tagged_row(item):
                batch = add(item)
                if batch.full:
                    yield from take(batch)
            else:
                yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:  # a generator stopped early: its files close now
            close()


def _is_tagged_row(item: Any) -> bool:
    return (
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[0], RawTable)
        and isinstance(item[1], dict)
    )


class _Batch:
    """The rows of one raw table that `batches` collects for its next Arrow table."""

    def __init__(self, table: RawTable, size: int, max_bytes: int | None) -> None:
        self.table = table
        self.size = size
        self.max_bytes = max_bytes
        self._columns: dict[str, list[Any]] = {name: [] for name in table.schema.names}
        self.rows = 0
        self.bytes = 0

    def add(self, row: Mapping[str, Any]) -> None:
        for name, values in self._columns.items():
            value = row.get(name)
            values.append(value)
            if isinstance(value, str | bytes):
                self.bytes += len(value)
        self.rows += 1

    @property
    def full(self) -> bool:
        return self.rows >= self.size or bool(self.max_bytes and self.bytes >= self.max_bytes)

    def take(self) -> pa.Table | None:
        if not self.rows:
            return None
        table = pa.Table.from_pydict(self._columns, schema=self.table.schema)
        self._columns = {name: [] for name in self.table.schema.names}
        self.rows = 0
        self.bytes = 0
        return table


@dataclass
class LandingResult:
    """What one `land()` call did."""

    source: str
    rows: dict[str, int] = field(default_factory=dict)  # raw table -> rows landed
    rejected: int = 0  # bad inputs skipped and recorded in raw_<source>.rejects
    windows: int = 0
    load_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # What the run had to say beyond rows: load packages it rolled back, and why.
    notes: list[str] = field(default_factory=list)
    # Every file or archive member a bulk run was offered, and what became of it.
    files: FileAccount | None = None
    # raw table -> rows landed that repeated a version raw held, deleted again
    repeated: dict[str, int] = field(default_factory=dict)
    # What each resource's publisher said it has published (`extract.publication`), by
    # resource: as-of date, count, what was counted and how, and `landed_as_of`, the
    # as-of date of the last publication the resource landed whole.
    publications: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def pipeline_for(source: str, connection: ConnectionInfo, pipelines_dir: Path) -> dlt.Pipeline:
    """The dlt pipeline of a source: named after it, landing in `raw_<source>`.

    dlt's unique constraints (on `_dlt_id`) are not created: a process killed during a
    load can leave a job committed in PostgreSQL but not yet marked done by dlt, and the
    rerun loads that job again. Raw is append-only history and may hold a row twice (dbt
    keeps one version per key), whereas a unique constraint would fail the rerun, and
    every later one, on a duplicate key. `land()` creates the indexes raw needs.
    """
    return dlt.pipeline(
        pipeline_name=source,
        destination=dlt.destinations.postgres(credentials=connection.url(), create_indexes=False),
        dataset_name=f"raw_{source}",
        pipelines_dir=str(pipelines_dir),
    )


class LoadFailed(ExtractError):
    """A window's load package failed in the warehouse: it was rolled back and dropped."""


def land(
    pipeline: dlt.Pipeline,
    make_source: Callable[[], DltSource],
    *,
    tables: Sequence[RawTable] = (),
    full: bool = False,
    on_window: Callable[[LandingResult], None] | None = None,
    bulk: bool = False,
) -> LandingResult:
    """Run `make_source()` into `pipeline` window after window until it has no more.

    `tables` are the source's declared raw tables: every batch a resource yields is
    checked against them before it enters a load package (`extract.storable`: rows
    PostgreSQL cannot store go to `rejects` with the reason and the rest lands), and their
    indexes are created once the tables hold rows (a bulk load into a table without
    indexes is faster, and later loads keep them). `full` first resets the cursors of the
    source's resources (raw keeps its history; the marts keep the latest version of each
    record), so everything is pulled again.

    A load package that fails in the warehouse is never left to block later runs: the rows
    it committed are deleted, the package and the local working state are dropped (the
    cursors come back from the warehouse), and the run fails with `LoadFailed`; a package
    left by a killed run is loaded first, or rolled back the same way if it cannot be.

    `result.files` accounts for every file a bulk resource was offered; with `bulk`, a run
    offered no release file of its source fails (`NoReleaseFiles`) after listing them.
    """
    started = time.monotonic()
    source_name = make_source().name
    result = LandingResult(source=source_name, files=open_account(source_name))
    declared = {table.name: table for table in tables}
    limits = Limits.configured()
    pipeline.sync_destination()  # state lives in the warehouse: resume where it ended
    pipeline = _finish_pending(pipeline, result)
    _ensure_hash_columns(pipeline, tables)
    if full:
        _reset_cursors(pipeline, make_source())
    with parsing(source_name):  # bulk files parsed ahead on workers, across windows
        _land_windows(pipeline, make_source, declared, limits, result, on_window)
    close_account(source_name)
    result.notes.extend(result.files.notes)  # files landed unverified, ...
    _ensure_indexes(pipeline, tables)
    result.publications = _publications(pipeline, source_name)
    result.seconds = time.monotonic() - started
    if bulk:
        _check_release_files(result.files)
    return result


def _land_windows(
    pipeline: dlt.Pipeline,
    make_source: Callable[[], DltSource],
    declared: Mapping[str, RawTable],
    limits: Limits,
    result: LandingResult,
    on_window: Callable[[LandingResult], None] | None,
) -> None:
    """Run the source window after window until no resource has more (see `land`)."""
    source_name = result.source
    tables = tuple(declared.values())
    for _ in range(MAX_WINDOWS):
        source = make_source()
        for resource in source.resources.selected.values():
            resource.add_yield_map(_storable_only(resource.table_name, declared, limits))
        try:
            info = pipeline.run(source, loader_file_format="csv")
        except PipelineStepFailed as failed:
            cause = extract_error_in(failed)
            if cause is not None:
                raise cause from failed
            if failed.step not in ("normalize", "load"):
                raise
            _roll_back(pipeline, failed.load_id)
            raise LoadFailed(
                source_name,
                f"load package {failed.load_id}",
                f"the warehouse refused it ({_first_line(failed.exception)}); its rows were "
                "removed and the package dropped, so the next run starts again from the "
                "last committed window",
            ) from failed
        _count(pipeline, info, result)
        _drop_repeats(pipeline, tables, info.loads_ids, result)
        if on_window:
            on_window(result)
        if not _has_more_windows(pipeline, source_name, source.resources.selected.keys()):
            break


def _ensure_hash_columns(pipeline: dlt.Pipeline, tables: Sequence[RawTable]) -> None:
    """`record_hash` on the source's contract tables that exist (`medmirror init` adds it
    too; a table dlt creates in this run gets it before the repeats are dropped)."""
    if not contract_tables(tables):
        return
    with pipeline.sql_client() as client:
        ensure_hash_columns(client.execute_sql, pipeline.dataset_name, tables)


def _drop_repeats(
    pipeline: dlt.Pipeline,
    tables: Sequence[RawTable],
    load_ids: Sequence[str],
    result: LandingResult,
) -> None:
    """Delete the rows this window landed that repeat a version raw holds
    (`extract.versions`): they are not counted as landed."""
    landed = [table for table in contract_tables(tables) if result.rows.get(table.name)]
    if not landed or not load_ids:
        return
    with pipeline.sql_client() as client:
        ensure_hash_columns(client.execute_sql, pipeline.dataset_name, landed)
        for table in landed:
            repeated = drop_repeated_versions(client, table, load_ids)
            if repeated:
                log.info(
                    "%s: %d rows repeated versions %s already held: not kept",
                    pipeline.pipeline_name,
                    repeated,
                    table.name,
                )
                result.rows[table.name] -= repeated
                result.repeated[table.name] = result.repeated.get(table.name, 0) + repeated


def _check_release_files(files: FileAccount) -> None:
    """A bulk run must have been offered at least one release file of its source."""
    if files.recognised or not files.files:  # a database (DrugCentral) offers no files
        return
    seen = "; ".join(offered.describe() for offered in files.files.values())
    raise NoReleaseFiles(
        files.source,
        "bulk location",
        f"none of the {len(files.files)} files offered is a release file of this source: " + seen,
    )


def _storable_only(
    resource_table: Any, declared: Mapping[str, RawTable], limits: Limits
) -> Callable[..., Iterator[Any]]:
    """A dlt yield-map step: each Arrow batch without the rows PostgreSQL cannot store,
    and those rows as rejects naming the record (its key columns) and the problem."""

    def split(item: Any, meta: Any = None) -> Iterator[Any]:
        if not isinstance(item, pa.Table | pa.RecordBatch) or not item.num_rows:
            yield item
            return
        name = meta.hints.get("table_name") if isinstance(meta, HintsMeta) else resource_table
        table = declared.get(name) if isinstance(name, str) else None
        json_columns = table.json_columns if table else ("record",)
        bad = unstorable_rows(item, json_columns, limits)
        if not bad:
            yield item
            return
        keys = table.key_columns if table else ()
        uris = item.column("source_uri").to_pylist() if "source_uri" in item.column_names else []
        for problem in bad:
            log.warning("%s (skipped, recorded in rejects)", problem.problem)
        yield rejects_table(
            [uris[found.row] if uris else f"raw table {name}" for found in bad],
            [found.problem for found in bad],
            [_row_position(item, found.row, keys) for found in bad],
        )
        rows = pa.array([n not in {found.row for found in bad} for n in range(item.num_rows)])
        kept = item.filter(rows)
        if kept.num_rows:
            yield kept

    return split


def _row_position(item: pa.Table | pa.RecordBatch, row: int, keys: Sequence[str]) -> str:
    """The record's own key columns, e.g. `nct_id=NCT00000102`."""
    named = [f"{key}={item.column(key)[row].as_py()}" for key in keys if key in item.column_names]
    return ", ".join(named) or f"row {row + 1} of its batch"


def _finish_pending(pipeline: dlt.Pipeline, result: LandingResult) -> dlt.Pipeline:
    """Load what a killed run left extracted or normalized; roll back what cannot load."""
    if not pipeline.has_pending_data:
        return pipeline
    try:
        pipeline.normalize()
        pipeline.load()
    except PipelineStepFailed as failed:
        _roll_back(pipeline, failed.load_id)
        note = (
            f"a load package left by an earlier run ({failed.load_id}) could not be loaded "
            f"({_first_line(failed.exception)}): rolled back and dropped"
        )
        log.warning("%s: %s", pipeline.pipeline_name, note)
        result.notes.append(note)
        pipeline = pipeline.drop()
        pipeline.sync_destination()
    return pipeline


def _roll_back(pipeline: dlt.Pipeline, load_id: str | None) -> None:
    """Delete the rows a failed package committed (its state row too) and drop the
    pipeline's pending packages and local state: the warehouse is again as it was after
    the last complete load, and the next run's cursors come from it."""
    if load_id:
        with pipeline.sql_client() as client:
            for table in pipeline.default_schema.data_table_names() + ["_dlt_pipeline_state"]:
                qualified = client.make_qualified_table_name(table)
                if client.execute_sql("select to_regclass(%s)", qualified)[0][0]:
                    client.execute_sql(
                        f"delete from {qualified} where _dlt_load_id = %s",  # noqa: S608
                        load_id,
                    )
    pipeline.drop_pending_packages()
    pipeline.drop()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[-1] if text else type(error).__name__


def _ensure_indexes(pipeline: dlt.Pipeline, tables: Sequence[RawTable]) -> None:
    with pipeline.sql_client() as client:
        for table in tables:
            qualified = client.make_qualified_table_name(table.name)
            if (
                not table.indexes
                or not client.execute_sql("select to_regclass(%s)", qualified)[0][0]
            ):
                continue
            for columns in table.indexes:
                name = client.escape_column_name(f"{table.name}_{'_'.join(columns)}_idx")
                column_list = ", ".join(client.escape_column_name(column) for column in columns)
                client.execute_sql(
                    f"create index if not exists {name} on {qualified} ({column_list})"  # noqa: S608
                )


Wrapped = TypeVar("Wrapped", bound=BaseException)


def extract_error_in(failure: BaseException) -> ExtractError | None:
    """The `ExtractError` a dlt step failure wraps (dlt nests the resource's exception)."""
    return wrapped_in(failure, ExtractError)


def wrapped_in(failure: BaseException, kind: type[Wrapped]) -> Wrapped | None:
    """The first `kind` in `failure` or what it wraps: its cause, its context, and the
    `exception` a dlt step failure keeps."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [failure]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, kind):
            return error
        wrapped = getattr(error, "exception", None)
        if not isinstance(wrapped, BaseException):
            wrapped = None
        pending.extend([error.__cause__, error.__context__, wrapped])
    return None


def _reset_cursors(pipeline: dlt.Pipeline, source: DltSource) -> None:
    if not pipeline.default_schema_name:
        return  # never ran: nothing to reset
    log.info("%s: full refresh, resetting the cursors of %s", source.name, list(source.resources))
    pipeline_drop(pipeline, resources=list(source.resources.selected), state_only=True)()


def _count(pipeline: dlt.Pipeline, info: LoadInfo, result: LandingResult) -> None:
    result.windows += 1
    result.load_ids.extend(info.loads_ids)
    normalize = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
    for table, rows in (normalize.row_counts if normalize else {}).items():
        if table == REJECTS.name:
            result.rejected += rows
        elif table == LISTED.name:
            continue  # the keys a complete listing named (extract.tombstones): not records
        elif not table.startswith("_dlt"):
            result.rows[table] = result.rows.get(table, 0) + rows


def _publications(pipeline: dlt.Pipeline, source: str) -> dict[str, dict[str, Any]]:
    states = pipeline.state.get("sources", {}).get(source, {}).get("resources", {})
    return {
        name: {**state[PUBLICATION], "landed_as_of": state.get("as_of")}
        for name, state in states.items()
        if isinstance(state.get(PUBLICATION), dict)
    }


def _has_more_windows(pipeline: dlt.Pipeline, source: str, resources: Iterable[str]) -> bool:
    states = pipeline.state.get("sources", {}).get(source, {}).get("resources", {})
    return any(states.get(name, {}).get(MORE_WINDOWS) for name in resources)
