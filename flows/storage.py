"""`medmirror storage`: where the space goes, and what retention would free.

Per schema its size on disk (tables, indexes and TOAST); per source its raw record
versions against its current records (distinct natural keys of its main raw table), and
its downloads: kept by retention, and what retention would free (extract/retention.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from psycopg2 import sql

from extract.retention import Retention, plan, prune
from extract.spec import SourceSpec
from extract.versions import RECORD_HASH
from medmirror.settings import ConnectionInfo

SCHEMA_SIZES = """
select n.nspname, sum(pg_total_relation_size(c.oid))::bigint
from pg_class as c
join pg_namespace as n on n.oid = c.relnamespace
where c.relkind in ('r', 'm', 'p')
    and n.nspname not in ('pg_catalog', 'information_schema')
    and n.nspname not like 'pg\\_toast%%'
group by 1
order by 2 desc
"""


@dataclass
class SourceStorage:
    source: str
    raw_bytes: int = 0
    raw_versions: int = 0  # rows of the main raw table: every version landed
    current_records: int = 0  # its distinct natural keys
    downloads: Retention | None = None


@dataclass
class StorageReport:
    schemas: list[tuple[str, int]] = field(default_factory=list)
    sources: list[SourceStorage] = field(default_factory=list)

    @property
    def retention_frees(self) -> int:
        return sum(item.downloads.freed_bytes for item in self.sources if item.downloads)


def storage_report(
    connection: ConnectionInfo, specs: list[SourceSpec], downloads: Path
) -> StorageReport:
    report = StorageReport()
    conn = connection.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(SCHEMA_SIZES)
            report.schemas = [(name, int(size)) for name, size in cur.fetchall()]
            sizes = dict(report.schemas)
            for spec in specs:
                item = SourceStorage(spec.name, raw_bytes=sizes.get(spec.raw_schema, 0))
                item.raw_versions, item.current_records = _versions(cur, spec)
                item.downloads = plan(downloads / spec.name)
                report.sources.append(item)
    finally:
        conn.close()
    return report


def _versions(cur, spec: SourceSpec) -> tuple[int, int]:
    """Rows of the source's main raw table and its distinct natural keys (its own columns
    but the cursor)."""
    table = next((t for t in spec.raw_tables if t.name == spec.status_table), None)
    qualified = f'"{spec.raw_schema}"."{spec.status_table}"'
    cur.execute("select to_regclass(%s) is not null", (qualified,))
    if table is None or not cur.fetchone()[0]:
        return 0, 0
    keys = [
        column for column in table.key_columns if column not in (spec.cursor_column, RECORD_HASH)
    ] or list(table.key_columns)
    if not keys:  # not a contract table (a ledger of releases): each row is current
        cur.execute(
            sql.SQL("select count(*) from {}").format(
                sql.Identifier(spec.raw_schema, spec.status_table)
            )
        )
        rows = int(cur.fetchone()[0])
        return rows, rows
    columns = sql.SQL(", ").join(map(sql.Identifier, keys))
    distinct = sql.SQL("({})").format(columns) if len(keys) > 1 else columns
    cur.execute(
        sql.SQL("select count(*), count(distinct {}) from {}").format(
            distinct, sql.Identifier(spec.raw_schema, spec.status_table)
        )
    )
    versions, current = cur.fetchone()
    return int(versions), int(current)


def human_size(value: int) -> str:
    """`1536` -> `1.5 KiB`."""
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"


def prune_downloads(specs: list[SourceSpec], downloads: Path) -> list[Retention]:
    """Free what retention frees in every source's download folder."""
    return [prune(downloads / spec.name) for spec in specs]
