"""The `ops` schema: a log of refresh runs, and the lock that keeps refreshes apart."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from extract.bulk import OfferedFile
from medmirror.roles import advisory_lock_holder, lock_timeout_s
from medmirror.settings import ConnectionInfo

log = logging.getLogger(__name__)

# pg_advisory_lock key of "a refresh is writing to this warehouse" (any fixed bigint).
REFRESH_LOCK_KEY = 7_406_613_151_023_409

OPS_DDL = """
do $$ begin  -- "create schema if not exists" needs CREATE on the database even if it exists
    if not exists (select from pg_namespace where nspname = 'ops') then
        create schema ops;
    end if;
end $$;
create table if not exists ops.refresh_runs (
    run_id bigint generated always as identity primary key,
    flow_run_id text,
    source text not null,
    way_in text not null,
    is_full boolean not null,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    succeeded boolean not null,
    rows_landed bigint not null,
    rejected bigint not null default 0,
    windows integer not null,
    error text
);
alter table ops.refresh_runs add column if not exists rejected bigint not null default 0;
alter table ops.refresh_runs add column if not exists notes jsonb not null default '[]';
alter table ops.refresh_runs add column if not exists built_at timestamptz;
comment on column ops.refresh_runs.built_at is
    'When dbt built what this run landed; null while not built (a run killed in its build, '
    'a refresh --no-dbt, a failed build): the next refresh of the source builds it.';
comment on table ops.refresh_runs is
    'One row per source extract of a medmirror refresh: what landed, or why it failed.';
comment on column ops.refresh_runs.notes is
    'What the run had to say beyond rows: load packages rolled back, tables upgraded.';
create table if not exists ops.refresh_files (
    run_id bigint not null references ops.refresh_runs (run_id) on delete cascade,
    uri text not null,
    outcome text not null,
    rows_landed bigint,
    reason text,
    primary key (run_id, uri)
);
comment on table ops.refresh_files is
    'Every file or archive member a bulk run was offered, and what became of it: landed '
    '(rows), already landed, rejected (reason and position), or not a release file.';
create table if not exists ops.reconciliation (
    source text not null,
    resource text not null,
    checked_at timestamptz not null,
    publisher_count bigint,
    mirror_count bigint,
    counted text not null,
    how text not null,
    publisher_as_of date,
    mirror_as_of date,
    primary key (source, resource, checked_at)
);
comment on table ops.reconciliation is
    'After every refresh, per source and counted thing: the publisher''s own count (where '
    'it publishes one, or the rows of the release files landed) next to the mirror''s '
    'count of the same thing, and the publisher''s as-of date next to the one landed.';
"""


def ensure_ops_tables(connection: ConnectionInfo) -> None:
    """Create the run log's tables (idempotent; `medmirror init` and every run log call it)."""
    conn = connection.connect()
    try:
        with conn, conn.cursor() as cur:
            cur.execute(OPS_DDL)
    finally:
        conn.close()


class RefreshAlreadyRunning(RuntimeError):
    pass


@dataclass(frozen=True)
class RunRecord:
    flow_run_id: str | None
    source: str
    way_in: str  # the bulk location, "releases page URL", "release files URI" or "api"
    is_full: bool
    started_at: datetime
    finished_at: datetime
    succeeded: bool
    rows_landed: int
    rejected: int  # bad inputs skipped (recorded in raw_<source>.rejects)
    windows: int
    error: str | None
    notes: tuple[str, ...] = ()  # load packages rolled back, tables upgraded
    files: tuple[OfferedFile, ...] = ()  # every file a bulk run was offered, and its outcome


def record_run(connection: ConnectionInfo, run: RunRecord) -> None:
    conn = connection.connect()
    try:
        with conn, conn.cursor() as cur:
            # The DDL waits for the table's lock: at most the lock timeout, then it says so.
            cur.execute("select set_config('lock_timeout', %s, true)", (f"{lock_timeout_s()}s",))
            cur.execute(OPS_DDL)
            cur.execute(
                """
                insert into ops.refresh_runs (
                    flow_run_id, source, way_in, is_full, started_at, finished_at,
                    succeeded, rows_landed, rejected, windows, error, notes
                ) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                returning run_id
                """,
                (
                    run.flow_run_id,
                    run.source,
                    run.way_in,
                    run.is_full,
                    run.started_at,
                    run.finished_at,
                    run.succeeded,
                    run.rows_landed,
                    run.rejected,
                    run.windows,
                    run.error,
                    json.dumps(list(run.notes)),
                ),
            )
            (run_id,) = cur.fetchone()
            cur.executemany(
                """
                insert into ops.refresh_files (run_id, uri, outcome, rows_landed, reason)
                values (%s, %s, %s, %s, %s)
                """,
                [
                    (run_id, offered.uri, str(offered.outcome), offered.rows, offered.reason)
                    for offered in run.files
                ],
            )
    finally:
        conn.close()


def unbuilt_sources(connection: ConnectionInfo) -> set[str]:
    """The sources with rows landed that no build has followed yet."""
    conn = connection.connect()
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "select distinct source from ops.refresh_runs "
                "where rows_landed > 0 and built_at is null"
            )
            return {source for (source,) in cur.fetchall()}
    finally:
        conn.close()


def mark_built(connection: ConnectionInfo, sources: Sequence[str]) -> None:
    """What every run of `sources` landed so far is built (called after a build succeeded,
    under the refresh lock: no run of theirs lands meanwhile)."""
    conn = connection.connect()
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "update ops.refresh_runs set built_at = now() "
                "where source = any(%s) and rows_landed > 0 and built_at is null",
                (list(sources),),
            )
    finally:
        conn.close()


@contextmanager
def refresh_lock(connection: ConnectionInfo) -> Iterator[None]:
    """Hold the warehouse's refresh lock, or refuse at once if another refresh holds it.

    A PostgreSQL advisory lock: it is released when its session ends, so a killed refresh
    never leaves it behind.
    """
    conn = connection.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(%s)", (REFRESH_LOCK_KEY,))
            if not cur.fetchone()[0]:
                holder = advisory_lock_holder(cur, REFRESH_LOCK_KEY)
                raise RefreshAlreadyRunning(
                    f"another refresh is running on this warehouse ({holder}); "
                    "try again when it ends"
                )
        yield
    finally:
        conn.close()


def data_quality(connection: ConnectionInfo, sources: list[str]) -> dict[str, list[dict]]:
    """Each source's data-quality summary (`ops.<source>_data_quality`, built by dbt), for
    the sources that have one: check, rows checked, complete and valid, and the shares."""
    summaries: dict[str, list[dict]] = {}
    conn = connection.connect()
    try:
        with conn.cursor() as cur:
            for source in sources:
                cur.execute("select to_regclass(%s)", (f"ops.{source}_data_quality",))
                if cur.fetchone()[0] is None:
                    continue
                summary = f"ops.{source}_data_quality"  # a dbt model's name, not input
                cur.execute(
                    "select check_name, rows_checked, rows_complete, rows_valid, "  # noqa: S608
                    f"completeness, valid_share from {summary} order by check_name"
                )
                names = [column.name for column in cur.description]
                summaries[source] = [dict(zip(names, row, strict=True)) for row in cur]
    finally:
        conn.close()
    return summaries
