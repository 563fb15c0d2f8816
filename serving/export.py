"""Parquet snapshots of the marts: `medmirror export [--mart NAME]... [DIR]`.

Each mart becomes `<mart>.parquet` (zstd, row groups of 122,880 rows, DuckDB's own size,
or fewer when the rows are wide) or, past `split_rows` rows, a folder `<mart>/` of files:
one per value of the mart's natural partition (dbt `meta: {export_partition: <column>}`,
e.g. a year) or, without one, parts of `split_rows` rows. `manifest.json` lists per mart
its files (paths relative to the snapshot, rows, bytes, SHA-256), rows, columns with their
dbt descriptions and types, primary key, the sources it comes from with their freshness
and licences, and the export time.

Rows stream from a server-side cursor through one row group at a time, so memory stays
flat whatever the mart's size. The snapshot is written beside its folder and renamed into
place at the end: a folder with a manifest is always a whole snapshot. Each mart is read
in its own transaction as the analyst role, read-only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from psycopg2 import sql

from medmirror.settings import ConnectionInfo
from serving.catalog import Mart, marts
from serving.freshness import freshness, read_only_connect
from serving.licences import licences_for

log = logging.getLogger(__name__)

FORMAT = "medmirror-snapshot/1"
ROW_GROUP_ROWS = 122_880  # DuckDB's row group size: one row group, one DuckDB task
ROW_GROUP_BYTES = 64 * 1024 * 1024  # ... or fewer rows, when they are wide
FETCH_ROWS = 2_000  # rows per round trip of the server-side cursor
SPLIT_ROWS = 5_000_000  # a mart with more rows is written as a folder of files
COMPRESSION = "zstd"
SKIPPED_TYPES = ("tsvector",)  # search vectors: PostgreSQL's own, rebuilt from the text


@dataclass(frozen=True)
class ColumnPlan:
    """How one column leaves PostgreSQL (`select_sql`) and lands in Parquet (`arrow`)."""

    name: str
    pg_type: str
    select_sql: sql.Composable
    arrow: pa.DataType


@dataclass
class WrittenFile:
    path: str  # relative to the snapshot
    rows: int
    bytes: int
    sha256: str
    partition: Any = None


@dataclass
class MartExport:
    name: str
    rows: int = 0
    files: list[WrittenFile] = field(default_factory=list)
    columns: list[ColumnPlan] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)
    partitioned_by: str | None = None


class ExportError(RuntimeError):
    pass


def default_directory(data_dir: Path, now: datetime | None = None) -> Path:
    """`<data>/exports/<UTC time>`: one folder per snapshot, newest last by name."""
    now = now or datetime.now(UTC)
    return data_dir / "exports" / now.strftime("%Y-%m-%dT%H%M%SZ")


def export_snapshot(
    analyst: ConnectionInfo,
    directory: Path,
    mart_names: Sequence[str] | None = None,
    *,
    split_rows: int = SPLIT_ROWS,
    on_mart: Callable[[MartExport], None] | None = None,
) -> dict[str, Any]:
    """Write the marts (all that are built, or those named) as a snapshot in `directory`
    and return its manifest (also written as `directory/manifest.json`)."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise ExportError(f"{directory} exists and is not empty: name a new folder")
    known = marts()
    built = _built_marts(analyst)
    if mart_names:
        unknown = [name for name in mart_names if name not in known]
        if unknown:
            raise ExportError(f"no mart named {', '.join(unknown)} (marts: {', '.join(known)})")
        missing = [name for name in mart_names if name not in built]
        if missing:
            raise ExportError(f"not built yet: {', '.join(missing)}")
        chosen = list(dict.fromkeys(mart_names))
    else:
        chosen = [name for name in known if name in built]
    exported_at = datetime.now(UTC)
    partial = directory.with_name(f".{directory.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        written: dict[str, MartExport] = {}
        for name in chosen:
            result = export_mart(analyst, known[name], partial, split_rows=split_rows)
            written[name] = result
            if on_mart:
                on_mart(result)
        status = {row["source"]: row for row in freshness(analyst)}
        manifest = _manifest(written, known, status, exported_at)
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        directory.parent.mkdir(parents=True, exist_ok=True)
        if directory.exists():
            directory.rmdir()  # empty, checked above
        partial.rename(directory)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


def export_mart(
    analyst: ConnectionInfo, mart: Mart, snapshot: Path, *, split_rows: int = SPLIT_ROWS
) -> MartExport:
    """Stream `marts.<mart>` into Parquet under `snapshot`."""
    result = MartExport(mart.name)
    conn = read_only_connect(analyst, 0, "medmirror-export")
    try:
        with conn.cursor() as cur:
            plans, result.omitted = column_plans(cur, mart.name)
            result.columns = plans
            partition = mart.meta.get("export_partition")
            if partition and partition not in {plan.name for plan in plans}:
                raise ExportError(f"{mart.name}: export_partition {partition!r} is no column")
            table = sql.Identifier("marts", mart.name)
            cur.execute(sql.SQL("select count(*) from {}").format(table))
            total = cur.fetchone()[0]
        conn.rollback()
        split = total > split_rows
        result.partitioned_by = partition if split and partition else None
        schema = pa.schema([pa.field(plan.name, plan.arrow) for plan in plans])
        order = [partition] if result.partitioned_by else list(mart.primary_key)
        statement = sql.SQL("select {columns} from {table}{order}").format(
            columns=sql.SQL(", ").join(plan.select_sql for plan in plans),
            table=sql.Identifier("marts", mart.name),
            order=(
                sql.SQL(" order by ") + sql.SQL(", ").join(map(sql.Identifier, order))
                if order
                else sql.SQL("")
            ),
        )
        with conn.cursor(name=f"export_{mart.name}") as stream:
            stream.itersize = FETCH_ROWS
            stream.execute(statement)
            if not split:
                target = _FileTarget(snapshot, f"{mart.name}.parquet", schema)
                _stream(stream, plans, schema, lambda batch: target.write(batch))
                result.files.append(target.close())
            elif result.partitioned_by:
                result.files += _write_partitions(
                    stream, plans, schema, snapshot, mart.name, result.partitioned_by
                )
            else:
                result.files += _write_parts(stream, plans, schema, snapshot, mart.name, split_rows)
        conn.rollback()
    finally:
        conn.close()
    result.rows = sum(item.rows for item in result.files)
    log.info("%s: %d rows in %d file(s)", mart.name, result.rows, len(result.files))
    return result


# -- types ----------------------------------------------------------------------------


def column_plans(cur, mart: str) -> tuple[list[ColumnPlan], list[str]]:
    """Each column's Parquet type and the SQL that reads it; the columns left out."""
    cur.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute as a "
        "where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped "
        "order by a.attnum",
        (f"marts.{mart}",),
    )
    plans, omitted = [], []
    for name, pg_type in cur.fetchall():
        if pg_type in SKIPPED_TYPES:
            omitted.append(name)
            continue
        plans.append(plan_column(name, pg_type))
    return plans, omitted


_SCALARS: dict[str, tuple[pa.DataType, str | None]] = {
    # pg type (without modifiers) -> Arrow type, and the cast that reads it (None: as is)
    "text": (pa.string(), None),
    "character varying": (pa.string(), None),
    "character": (pa.string(), None),
    "uuid": (pa.string(), "text"),
    "boolean": (pa.bool_(), None),
    "smallint": (pa.int16(), None),
    "integer": (pa.int32(), None),
    "bigint": (pa.int64(), None),
    "real": (pa.float32(), None),
    "double precision": (pa.float64(), None),
    "numeric": (pa.float64(), "double precision"),  # analysts' numbers; exact text stays in PG
    "date": (pa.date32(), None),
    "timestamp without time zone": (pa.timestamp("us"), None),
    "timestamp with time zone": (pa.timestamp("us", tz="UTC"), None),
    "jsonb": (pa.json_(), "text"),
    "json": (pa.json_(), "text"),
}


def plan_column(name: str, pg_type: str) -> ColumnPlan:
    base = re.sub(r"\(.*?\)", "", pg_type).strip()
    is_array = base.endswith("[]")
    element = base.removesuffix("[]").strip()
    arrow, cast = _SCALARS.get(element, (pa.string(), "text"))
    if is_array and arrow == pa.json_():
        arrow, cast = pa.string(), "text"  # arrays of documents: as text
    column = sql.Identifier(name)
    if is_array:
        arrow = pa.list_(arrow)
        cast = f"{cast}[]" if cast else None
    select = column
    if cast:
        select = sql.SQL("cast({} as {}) as {}").format(column, sql.SQL(cast), column)
    return ColumnPlan(name, pg_type, select, arrow)


# -- writing --------------------------------------------------------------------------


class _FileTarget:
    """One Parquet file, written row group by row group."""

    def __init__(self, snapshot: Path, relative: str, schema: pa.Schema, partition=None) -> None:
        self.snapshot, self.relative, self.partition = snapshot, relative, partition
        path = snapshot / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(
            path, schema, compression=COMPRESSION, write_statistics=True, store_schema=False
        )
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        self.rows += table.num_rows

    def close(self) -> WrittenFile:
        self.writer.close()
        path = self.snapshot / self.relative
        size = path.stat().st_size
        return WrittenFile(self.relative, self.rows, size, _sha256(path), self.partition)


def _batches(stream, plans: list[ColumnPlan], schema: pa.Schema) -> Iterable[pa.RecordBatch]:
    while True:
        rows = stream.fetchmany(FETCH_ROWS)
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(values, type=plan.arrow)
                for values, plan in zip(columns, plans, strict=True)
            ],
            schema=schema,
        )


def _row_groups(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> Iterable[pa.Table]:
    """Batches gathered into row groups of ROW_GROUP_ROWS rows or ROW_GROUP_BYTES bytes."""
    held: list[pa.RecordBatch] = []
    rows = size = 0
    for batch in batches:
        held.append(batch)
        rows += batch.num_rows
        size += batch.nbytes
        if rows >= ROW_GROUP_ROWS or size >= ROW_GROUP_BYTES:
            yield pa.Table.from_batches(held, schema=schema)
            held, rows, size = [], 0, 0
    if held:
        yield pa.Table.from_batches(held, schema=schema)


def _stream(stream, plans, schema, write: Callable[[pa.Table], None]) -> None:
    for group in _row_groups(_batches(stream, plans, schema), schema):
        write(group)


def _write_parts(stream, plans, schema, snapshot, mart, split_rows) -> list[WrittenFile]:
    """Parts of `split_rows` rows: `<mart>/part-00000.parquet`, ..."""
    files: list[WrittenFile] = []
    target: _FileTarget | None = None
    for group in _row_groups(_batches(stream, plans, schema), schema):
        offset = 0
        while offset < group.num_rows:
            if target is None:
                target = _FileTarget(
                    snapshot, f"{mart}/part-{len(files):05d}.parquet", schema, len(files)
                )
            take = min(group.num_rows - offset, split_rows - target.rows)
            target.write(group.slice(offset, take))
            offset += take
            if target.rows >= split_rows:
                files.append(target.close())
                target = None
    if target is not None:
        files.append(target.close())
    return files


def _write_partitions(stream, plans, schema, snapshot, mart, column) -> list[WrittenFile]:
    """One file per value of `column` (rows arrive ordered by it):
    `<mart>/<column>=<value>.parquet`, `<column>=null.parquet` for the rows without."""
    files: list[WrittenFile] = []
    target: _FileTarget | None = None
    current: Any = object()
    index = schema.get_field_index(column)
    for group in _row_groups(_batches(stream, plans, schema), schema):
        values = group.column(index).to_pylist()
        start = 0
        for position in range(1, len(values) + 1):
            if position < len(values) and values[position] == values[start]:
                continue
            value = values[start]
            if target is None or value != current:
                if target is not None:
                    files.append(target.close())
                label = "null" if value is None else re.sub(r"[^\w.-]", "_", str(value))
                target = _FileTarget(
                    snapshot, f"{mart}/{column}={label}.parquet", schema, _jsonable(value)
                )
                current = value
            target.write(group.slice(start, position - start))
            start = position
    if target is not None:
        files.append(target.close())
    return files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# -- manifest -------------------------------------------------------------------------


def _built_marts(analyst: ConnectionInfo) -> set[str]:
    conn = read_only_connect(analyst, 10_000, "medmirror-export")
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select c.relname from pg_class as c "
                "join pg_namespace as n on n.oid = c.relnamespace "
                "where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p')"
            )
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


def _manifest(
    written: dict[str, MartExport],
    known: dict[str, Mart],
    status: dict[str, dict[str, Any]],
    exported_at: datetime,
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "exported_at": exported_at.isoformat(),
        "marts": {
            name: {
                "description": known[name].description,
                "rows": result.rows,
                "primary_key": list(known[name].primary_key),
                "partitioned_by": result.partitioned_by,
                "files": [
                    {
                        "path": item.path,
                        "rows": item.rows,
                        "bytes": item.bytes,
                        "sha256": item.sha256,
                        **({"partition": item.partition} if result.partitioned_by else {}),
                    }
                    for item in result.files
                ],
                "columns": [
                    {
                        "name": plan.name,
                        "type": plan.pg_type,
                        "parquet_type": str(plan.arrow),
                        "description": known[name].described.get(plan.name, ""),
                    }
                    for plan in result.columns
                ],
                "omitted_columns": result.omitted,
                "sources": source_entries(known[name].sources, status),
            }
            for name, result in written.items()
        },
    }


def source_entries(
    sources: Sequence[str], status: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per source: its publisher, licence and attribution, and how fresh it is."""
    fresh_fields = ("last_loaded_at", "newest_record", "verdict")
    return [
        {
            **licence,
            **{name: status.get(licence["source"], {}).get(name) for name in fresh_fields},
        }
        for licence in licences_for(sources)
    ]


def read_manifest(directory: Path) -> dict[str, Any]:
    path = Path(directory) / "manifest.json"
    if not path.exists():
        raise ExportError(f"{directory} holds no snapshot (no manifest.json)")
    return json.loads(path.read_text())


def latest_snapshot(data_dir: Path) -> Path | None:
    """The newest whole snapshot under `<data>/exports`."""
    root = data_dir / "exports"
    if not root.exists():
        return None
    found = sorted(
        path for path in root.iterdir() if path.is_dir() and (path / "manifest.json").exists()
    )
    return found[-1] if found else None
