"""The raw landing contract, and the runner that lands a source window by window.

Every resource lands one append-only table `raw_<source>.<entity>` holding the natural
key(s), the cursor, `record` (the publisher's document as jsonb), `source_uri`,
`deleted` and dlt's `_dlt_load_id`/`_dlt_id` (see ARCHITECTURE.md). Resources yield
Arrow tables built by `RowBatcher`: they skip dlt's row-by-row normalisation and are
loaded with `COPY` (the csv loader), the fastest way into PostgreSQL.

Long pulls run in windows. A resource that stopped at the end of a window sets
`more_windows` in its resource state; `land()` commits that window (data and state in one
load) and runs the source again until no resource has more, so a crash loses at most the
window in flight.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.pipeline import LoadInfo
from dlt.extract.source import DltSource
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.helpers import pipeline_drop

from extract.errors import ExtractError
from medmirror.settings import ConnectionInfo

log = logging.getLogger(__name__)


class _ExpectedArrowHintWarning(logging.Filter):
    """dlt warns that Arrow's `string` differs from the `json` hint of `record`: by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "when merging arrow schema with dlt schema" not in record.getMessage()


logging.getLogger("dlt").addFilter(_ExpectedArrowHintWarning())

MORE_WINDOWS = "more_windows"
REJECTS_TABLE = "rejects"
MAX_WINDOWS = 100_000
BATCH_ROWS = 2_000

# Column hints shared by every raw table (the key and cursor columns are the source's own).
LANDING_COLUMNS: dict[str, dict[str, Any]] = {
    "record": {"data_type": "json", "nullable": True},
    "source_uri": {"data_type": "text", "nullable": False},
    "deleted": {"data_type": "bool", "nullable": False},
}
REJECT_COLUMNS: dict[str, dict[str, Any]] = {
    "source_uri": {"data_type": "text", "nullable": False},
    "problem": {"data_type": "text", "nullable": False},
    "rejected_at": {"data_type": "timestamp", "nullable": False},
}
LANDING_FIELDS = [
    pa.field("record", pa.string()),
    pa.field("source_uri", pa.string(), nullable=False),
    pa.field("deleted", pa.bool_(), nullable=False),
]


def reject(error: ExtractError) -> Any:
    """A bad input (unreadable file, malformed document) for `raw_<source>.rejects`.

    Bulk resources yield it instead of failing the window: the rest of the release lands,
    and the reject is committed with the window it belongs to. Such resources bind their
    own rows with `to_table` too.
    """
    log.warning("%s (skipped, recorded in raw_%s.%s)", error, error.source, REJECTS_TABLE)
    row = {
        "source_uri": [error.where],
        "problem": [error.problem],
        "rejected_at": [datetime.now(UTC)],
    }
    return to_table(pa.Table.from_pydict(row), REJECTS_TABLE, REJECT_COLUMNS)


def to_table(item: Any, table: str, columns: dict[str, dict[str, Any]]) -> Any:
    """`item` bound for `table` with its own column hints.

    A resource that lands more than one table (its records and its rejects) declares no
    columns itself and binds each item this way: dlt merges a resource's column hints
    into every table it writes, which would give the rejects the records' columns.
    """
    return dlt.mark.with_hints(
        item,
        dlt.mark.make_hints(table_name=table, write_disposition="append", columns=columns),
        create_table_variant=True,
    )


def landing_schema(*key_and_cursor: pa.Field) -> pa.Schema:
    """The Arrow schema of a raw table: its key and cursor columns, then the contract's."""
    return pa.schema([*key_and_cursor, *LANDING_FIELDS])


class RowBatcher:
    """Collects landing rows (dicts) and hands them out as Arrow tables of `size` rows."""

    def __init__(self, schema: pa.Schema, size: int = BATCH_ROWS) -> None:
        self.schema = schema
        self.size = size
        self._columns: dict[str, list[Any]] = {name: [] for name in schema.names}
        self.rows = 0

    def add(self, row: dict[str, Any]) -> pa.Table | None:
        for name, values in self._columns.items():
            values.append(row.get(name))
        self.rows += 1
        return self.flush() if self.rows >= self.size else None

    def flush(self) -> pa.Table | None:
        if not self.rows:
            return None
        table = pa.Table.from_pydict(self._columns, schema=self.schema)
        self._columns = {name: [] for name in self.schema.names}
        self.rows = 0
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


def land(
    pipeline: dlt.Pipeline,
    make_source: Callable[[], DltSource],
    *,
    full: bool = False,
    on_window: Callable[[LandingResult], None] | None = None,
    indexes: Mapping[str, Sequence[str]] | None = None,
) -> LandingResult:
    """Run `make_source()` into `pipeline` window after window until it has no more.

    `full` first resets the cursors of the source's resources (raw keeps its history; the
    marts keep the latest version of each record), so everything is pulled again.
    `indexes` (raw table -> columns) are created once the tables exist, after the first
    load: a bulk load into a table without indexes is faster, and later loads keep them.
    """
    started = time.monotonic()
    source_name = make_source().name
    result = LandingResult(source=source_name)
    pipeline.sync_destination()  # state lives in the warehouse: resume where it ended
    if full:
        _reset_cursors(pipeline, make_source())
    for _ in range(MAX_WINDOWS):
        source = make_source()
        try:
            info = pipeline.run(source, loader_file_format="csv")
        except PipelineStepFailed as failed:
            cause = extract_error_in(failed)
            if cause is None:
                raise
            raise cause from failed
        _count(pipeline, info, result)
        if on_window:
            on_window(result)
        if not _has_more_windows(pipeline, source_name, source.resources.selected.keys()):
            break
    _ensure_indexes(pipeline, indexes or {})
    result.seconds = time.monotonic() - started
    return result


def _ensure_indexes(pipeline: dlt.Pipeline, indexes: Mapping[str, Sequence[str]]) -> None:
    if not indexes:
        return
    with pipeline.sql_client() as client:
        for table, columns in indexes.items():
            qualified = client.make_qualified_table_name(table)
            if not client.execute_sql("select to_regclass(%s)", qualified)[0][0]:
                continue  # nothing landed in it yet
            name = client.escape_column_name(f"{table}_{'_'.join(columns)}_idx")
            column_list = ", ".join(client.escape_column_name(column) for column in columns)
            client.execute_sql(
                f"create index if not exists {name} on {qualified} ({column_list})"  # noqa: S608
            )


def extract_error_in(failure: BaseException) -> ExtractError | None:
    """The `ExtractError` a dlt step failure wraps (dlt nests the resource's exception)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [failure]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, ExtractError):
            return error
        pending.extend([error.__cause__, error.__context__, getattr(error, "exception", None)])
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
        if table == REJECTS_TABLE:
            result.rejected += rows
        elif not table.startswith("_dlt"):
            result.rows[table] = result.rows.get(table, 0) + rows


def _has_more_windows(pipeline: dlt.Pipeline, source: str, resources: Iterable[str]) -> bool:
    states = pipeline.state.get("sources", {}).get(source, {}).get("resources", {})
    return any(states.get(name, {}).get(MORE_WINDOWS) for name in resources)
