"""How fresh each source is: last successful load, the publisher's as-of date, newest
record, publisher vs mirror count, and a verdict.

The verdict, in this order:

- `never loaded`: no load of the source ever succeeded;
- `stale`: the last successful load is older than the source's freshness threshold
  (`warn_after`, the same one `dbt source freshness` checks, read from dbt's manifest),
  or the publisher has published something newer than the mirror landed whole (its
  as-of date is past the one the mirror landed);
- `diverged`: the latest reconciliation (`ops.reconciliation`) has a publisher's count
  that differs from the mirror's count of the same thing;
- `fresh`: none of these. A load having run is never enough by itself.

The same rules are the dbt view `marts.source_freshness`: once it is built, a status
takes its verdict from it (`verdict` here applies them before, or at another `now`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg2
from psycopg2 import sql

from extract.spec import SourceSpec
from flows.reconcile import Reconciliation, latest_reconciliation
from medmirror.settings import ConnectionInfo, load_settings

PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class FreshnessRule:
    warn_after: timedelta | None
    error_after: timedelta | None

    def too_old(self, last_loaded_at: datetime, now: datetime) -> str | None:
        """Why a load at `last_loaded_at` is stale at `now` (None: it is not)."""
        age = now - last_loaded_at
        for name, after in (("error_after", self.error_after), ("warn_after", self.warn_after)):
            if after and age > after:
                return f"last load {age.days} days ago, past {name} ({after.days} days)"
        return None


@dataclass
class SourceStatus:
    source: str
    last_loaded_at: datetime | None
    newest_record: date | None
    raw_rows: int
    mart_rows: dict[str, int | None] = field(default_factory=dict)
    verdict: str = "never loaded"
    why: str | None = None
    last_error: str | None = None
    reconciliation: list[Reconciliation] = field(default_factory=list)

    @property
    def publisher_as_of(self) -> date | None:
        dates = [row.publisher_as_of for row in self.reconciliation if row.publisher_as_of]
        return max(dates) if dates else None

    def counts(self) -> str:
        """Publisher vs mirror count of each thing counted ("-" where none)."""
        return "; ".join(
            f"{row.resource}: {_number(row.publisher_count)} / {_number(row.mirror_count)}"
            for row in self.reconciliation
        )


def _number(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def freshness_rule(spec: SourceSpec, manifest: dict[str, Any] | None = None) -> FreshnessRule:
    """The source's freshness thresholds as dbt declares them for its main raw table
    (from dbt's manifest, written by every dbt parse and build)."""
    manifest = manifest if manifest is not None else dbt_manifest()
    for node in manifest.get("sources", {}).values():
        if node.get("source_name") == spec.name and node.get("name") == spec.status_table:
            rule = node.get("freshness") or (node.get("config") or {}).get("freshness") or {}
            return FreshnessRule(_after(rule.get("warn_after")), _after(rule.get("error_after")))
    return FreshnessRule(None, None)


def dbt_manifest() -> dict[str, Any]:
    """dbt's manifest of the project (`dbt parse` first when there is none yet)."""
    path = load_settings().dbt_target_dir / "manifest.json"
    if not path.exists():
        from flows.access import connection_for
        from flows.dbt_runner import run_dbt

        run_dbt(["parse"], connection_for("transformer"))
    return json.loads(path.read_text())


def _after(threshold: dict | None) -> timedelta | None:
    if not threshold or not threshold.get("count") or not threshold.get("period"):
        return None
    return threshold["count"] * PERIODS[threshold["period"]]


def verdict(status: SourceStatus, rule: FreshnessRule, now: datetime) -> tuple[str, str | None]:
    """The verdict on a source and why (see the module's docstring)."""
    if status.last_loaded_at is None:
        return "never loaded", None
    too_old = rule.too_old(status.last_loaded_at, now)
    if too_old:
        return "stale", too_old
    for row in status.reconciliation:
        if row.publisher_as_of and (
            row.mirror_as_of is None or row.mirror_as_of < row.publisher_as_of
        ):
            landed = row.mirror_as_of or "nothing"
            return "stale", (
                f"{row.resource}: the publisher published as of {row.publisher_as_of}, "
                f"the mirror landed {landed} whole"
            )
    for row in status.reconciliation:
        if not row.agrees:
            return "diverged", (
                f"{row.counted}: publisher {_number(row.publisher_count)}, "
                f"mirror {_number(row.mirror_count)}"
            )
    return "fresh", None


def source_status(
    connection: ConnectionInfo,
    spec: SourceSpec,
    now: datetime | None = None,
    manifest: dict[str, Any] | None = None,
) -> SourceStatus:
    now_is_now = now is None
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
            status.reconciliation = latest_reconciliation(cur, spec.name)
            judged = _judged_by_the_view(cur, spec.name) if now_is_now else None
    finally:
        conn.close()
    # The view `marts.source_freshness` states the rules in SQL for analysts; status
    # takes its verdict from it once dbt built it (the rules in one place), and applies
    # the same rules here before that, or at another `now`.
    status.verdict, status.why = judged or verdict(status, freshness_rule(spec, manifest), now)
    return status


def _judged_by_the_view(cur: psycopg2.extensions.cursor, source: str) -> tuple[str, str] | None:
    """The verdict and why `marts.source_freshness` gives the source (None: not built)."""
    if not _exists(cur, "marts", "source_freshness"):
        return None
    cur.execute("select verdict, why from marts.source_freshness where source = %s", (source,))
    row = cur.fetchone()
    return (row[0], row[1]) if row else None


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
