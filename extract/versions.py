"""Raw keeps every distinct record version once.

Every contract table has `record_hash`, a column PostgreSQL computes from the landed
document (`md5(record::text)`: jsonb's text is canonical, so the same document with its
keys in another order has the same hash) and stores. After each window's load, the rows of
that load that repeat a version raw already holds (the same own columns, natural key and
cursor, the same `deleted` and the same `record_hash`) are deleted before the next window
runs: an overlap window, a rerun or a full re-sync (`refresh/weekly-full`) adds only what
differs. Lines a release repeats within itself (the Orange Book's exclusivity file has
identical lines) are kept as the publisher gave them: only an earlier load's version
makes a row a repeat. A run killed between its load and this
step leaves those repeats in raw, as raw allowed before (staging keeps one version).

Computed by PostgreSQL, not in Python: a generated column costs one C function call per
row during the COPY, and adding it to a table that already held rows fills it for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from extract.raw import RawTable

log = logging.getLogger(__name__)

RECORD_HASH = "record_hash"
HASH_EXPRESSION = "md5(record::text)"


def contract_tables(tables: Iterable[RawTable]) -> list[RawTable]:
    return [table for table in tables if table.contract]


Execute = Callable[..., list[tuple]]  # (query, *params) -> rows (dlt's `execute_sql`)


def ensure_hash_columns(execute: Execute, schema: str, tables: Sequence[RawTable]) -> list[str]:
    """Add the generated `record_hash` to every contract table of `schema` that exists and
    lacks it (filled for the rows it holds); returns those tables."""
    wanted = [table.name for table in contract_tables(tables)]
    if not wanted:
        return []
    rows = execute(
        """
        select t.table_name
        from information_schema.tables as t
        where t.table_schema = %s and t.table_name = any(%s)
            and exists (
                select from information_schema.columns as c
                where c.table_schema = t.table_schema and c.table_name = t.table_name
                    and c.column_name = 'record'
            )
            and not exists (
                select from information_schema.columns as c
                where c.table_schema = t.table_schema and c.table_name = t.table_name
                    and c.column_name = %s
            )
        """,
        schema,
        wanted,
        RECORD_HASH,
    )
    lacking = [row[0] for row in rows or []]
    for table in lacking:
        log.info("%s.%s: adding %s (computed once for its rows)", schema, table, RECORD_HASH)
        execute(
            f'alter table "{schema}"."{table}" add column if not exists {RECORD_HASH} '
            f"text generated always as ({HASH_EXPRESSION}) stored"
        )
    return lacking


def psycopg_execute(connection) -> Execute:
    """An `Execute` on a psycopg2 connection (autocommit)."""

    def execute(query: str, *params) -> list[tuple]:
        with connection.cursor() as cur:
            cur.execute(query, params or None)
            return cur.fetchall() if cur.description else []

    return execute


def drop_repeated_versions(
    sql_client, table: RawTable, load_ids: Sequence[str], *, ensure_index: bool = True
) -> int:
    """Delete the rows of `load_ids` in `table` that repeat a version an earlier load
    landed; returns how many. `sql_client`: dlt's
    SQL client of the source's pipeline."""
    qualified = sql_client.make_qualified_table_name(table.name)
    if not load_ids or not sql_client.execute_sql("select to_regclass(%s)", qualified)[0][0]:
        return 0
    escape = sql_client.escape_column_name
    if ensure_index:
        # The repeats of a load are found through these two: its rows by load id (a full
        # scan per window otherwise), their earlier versions by hash.
        for column in (RECORD_HASH, "_dlt_load_id"):
            sql_client.execute_sql(
                f"create index if not exists {escape(f'{table.name}_{column}_idx')} "
                f"on {qualified} ({escape(column)})"
            )
    same_columns = "".join(
        f" and earlier.{escape(column)} is not distinct from new.{escape(column)}"
        for column in table.key_columns
    )
    deleted = sql_client.execute_sql(
        f"""
        with repeated as (
            delete from {qualified} as new
            where new._dlt_load_id = any(%s)
                and exists (
                    select from {qualified} as earlier
                    where earlier.{escape(RECORD_HASH)} = new.{escape(RECORD_HASH)}
                        and earlier.deleted = new.deleted{same_columns}
                        and earlier._dlt_load_id < new._dlt_load_id
                )
            returning 1
        )
        select count(*) from repeated
        """,  # noqa: S608 - identifiers escaped by dlt's client
        list(load_ids),
    )
    return int(deleted[0][0])
