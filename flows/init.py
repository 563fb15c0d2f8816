"""`medmirror init`: every raw schema and table exists, empty, before anything lands.

Each source declares its raw tables in its package (`SourceSpec.tables`); `init_warehouse`
creates what is missing, through dlt (so dlt lands into exactly those tables), and the
`ops` tables of the run log. It is idempotent and cheap when nothing is missing (one
catalog query), so `medmirror db start` and every refresh run it. On an existing warehouse
it adds the tables and columns a newer medmirror declares and touches no data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from extract.landing import pipeline_for
from extract.raw import declared_columns, ensure_raw_tables, missing_raw_columns
from extract.spec import SourceSpec
from extract.versions import ensure_hash_columns, psycopg_execute
from flows.access import connection_for
from flows.ops import ensure_ops_tables
from flows.sources import SOURCES
from medmirror.settings import ConnectionInfo, load_settings

log = logging.getLogger(__name__)

# dlt's own tables, created with the schema (the load log staging reads), by a column
# each must have.
DLT_TABLES = {"_dlt_loads": {"load_id"}, "_dlt_version": {"version_hash"}}


@dataclass
class InitResult:
    """What `init_warehouse` created or added."""

    created: dict[str, list[str]] = field(default_factory=dict)  # source -> new tables
    added_columns: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.added_columns)

    def upgrade_notes(self) -> list[str]:
        """What a person must do after columns were added to tables that existed: models
        built from them before the upgrade lack the new columns until rebuilt."""
        return [
            f"raw_{source}.{table} gained {', '.join(sorted(columns))}: rebuild what it "
            f"feeds with `dbt build --full-refresh --select source:{source}+` "
            "(a refresh builds them on its next run; incremental marts need the full refresh)"
            for source, tables in self.added_columns.items()
            for table, columns in tables.items()
        ]


def init_warehouse(specs: Iterable[SourceSpec] | None = None) -> InitResult:
    """Create every raw schema, table and column the sources declare that is missing."""
    specs = list(specs if specs is not None else SOURCES.values())
    loader = connection_for("loader")
    ensure_ops_tables(connection_for("transformer"))
    declared = {spec.raw_schema: declared_columns(spec.tables) | DLT_TABLES for spec in specs}
    found = _found_columns(loader, declared)
    missing = missing_raw_columns(found, declared)
    result = InitResult()
    dlt_dir = load_settings().dlt_dir
    for spec in specs:
        lacking = missing.get(spec.raw_schema)
        if not lacking:
            continue
        log.info("%s: creating %s", spec.raw_schema, ", ".join(sorted(lacking)))
        changed = ensure_raw_tables(pipeline_for(spec.name, loader, dlt_dir), spec.tables)
        new_tables = [table for table in lacking if (spec.raw_schema, table) not in found]
        if new_tables:
            result.created[spec.name] = sorted(new_tables)
        added = {
            table: sorted(columns)
            for table, columns in changed.items()
            if table not in new_tables and columns
        }
        if added:
            result.added_columns[spec.name] = added
    _ensure_hash_columns(loader, specs)
    for note in result.upgrade_notes():
        log.warning(note)
    return result


def _ensure_hash_columns(loader: ConnectionInfo, specs: list[SourceSpec]) -> None:
    """Every contract table has its generated `record_hash` (extract/versions.py): added,
    and filled for the rows it holds, on a warehouse from before it existed."""
    conn = loader.connect()
    conn.autocommit = True
    try:
        execute = psycopg_execute(conn)
        for spec in specs:
            ensure_hash_columns(execute, spec.raw_schema, spec.tables)
    finally:
        conn.close()


def _found_columns(
    connection: ConnectionInfo, declared: dict[str, dict[str, set[str]]]
) -> dict[tuple[str, str], set[str]]:
    """(schema, table) -> columns, for every table of the declared raw schemas."""
    found: dict[tuple[str, str], set[str]] = {}
    conn = connection.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(
                """
                select t.table_schema, t.table_name, c.column_name
                from information_schema.tables as t
                left join information_schema.columns as c
                    on c.table_schema = t.table_schema and c.table_name = t.table_name
                where t.table_schema = any(%s)
                """,
                (list(declared),),
            )
            for schema, table, column in cur.fetchall():
                columns = found.setdefault((schema, table), set())
                if column:
                    columns.add(column)
    finally:
        conn.close()
    return found
