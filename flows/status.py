"""How fresh each source is: last successful load, newest record, rows, verdict.

The verdict applies the source's freshness rule, read from its dbt sources file (the
same `warn_after`/`error_after` that `dbt source freshness` checks), to the time of its
last successful load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import psycopg2
import yaml
from psycopg2 import sql

from extract.spec import SourceSpec
from medmirror.settings import DBT_PROJECT_DIR, ConnectionInfo

PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class FreshnessRule:
    warn_after: timedelta | None
    error_after: timedelta | None

    def verdict(self, last_loaded_at: datetime | None, now: datetime) -> str:
        if last_loaded_at is None:
            return "never loaded"
        age = now - last_loaded_at
        if self.error_after and age > self.error_after:
            return "stale (error)"
        if self.warn_after and age > self.warn_after:
            return "stale"
        return "fresh"


@dataclass
class SourceStatus:
    source: str
    last_loaded_at: datetime | None
    newest_record: date | None
    raw_rows: int
    mart_rows: dict[str, int | None] = field(default_factory=dict)
    verdict: str = "never loaded"
    last_error: str | None = None


def freshness_rule(spec: SourceSpec) -> FreshnessRule:
    """The source's freshness thresholds from `_<source>__sources.yml`."""
    sources_yml = DBT_PROJECT_DIR / "models" / "staging" / spec.name / f"_{spec.name}__sources.yml"
    document = yaml.safe_load(sources_yml.read_text())
    source = next(item for item in document["sources"] if item["name"] == spec.name)
    rule = source.get("freshness") or {}
    return FreshnessRule(_after(rule.get("warn_after")), _after(rule.get("error_after")))


def _after(threshold: dict | None) -> timedelta | None:
    if not threshold:
        return None
    return threshold["count"] * PERIODS[threshold["period"]]


def source_status(
    connection: ConnectionInfo, spec: SourceSpec, now: datetime | None = None
) -> SourceStatus:
    now = now or datetime.now(UTC)
    status = SourceStatus(source=spec.name, last_loaded_at=None, newest_record=None, raw_rows=0)
    conn = connection.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            if _exists(cur, spec.raw_schema, spec.status_table):
                cur.execute(
                    sql.SQL("select max(inserted_at) from {}._dlt_loads where status = 0").format(
                        sql.Identifier(spec.raw_schema)
                    )
                )
                status.last_loaded_at = cur.fetchone()[0]
                cur.execute(
                    sql.SQL("select count(*), max({}) from {}.{}").format(
                        sql.Identifier(spec.cursor_column),
                        sql.Identifier(spec.raw_schema),
                        sql.Identifier(spec.status_table),
                    )
                )
                status.raw_rows, status.newest_record = cur.fetchone()
            for mart in spec.marts:
                status.mart_rows[mart] = _count(cur, "marts", mart)
            if _exists(cur, "ops", "refresh_runs"):
                cur.execute(
                    """
                    select error from ops.refresh_runs
                    where source = %s order by run_id desc limit 1
                    """,
                    (spec.name,),
                )
                row = cur.fetchone()
                status.last_error = row[0] if row else None
    finally:
        conn.close()
    status.verdict = freshness_rule(spec).verdict(status.last_loaded_at, now)
    return status


def _exists(cur: psycopg2.extensions.cursor, schema: str, table: str) -> bool:
    cur.execute("select to_regclass(%s) is not null", (f'"{schema}"."{table}"',))
    return cur.fetchone()[0]


def _count(cur: psycopg2.extensions.cursor, schema: str, table: str) -> int | None:
    if not _exists(cur, schema, table):
        return None
    cur.execute(
        sql.SQL("select count(*) from {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    )
    return cur.fetchone()[0]
