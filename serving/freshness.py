"""How fresh each source is, for `GET /status`, the `freshness` MCP tool and the export
manifest.

`marts.source_freshness`, where dbt builds it, is what the analyst role reads. Until
then the freshness comes from `flows.status.source_status` (the same verdict as
`medmirror status`), which reads the raw schemas' load logs: it runs as the transformer
role in a read-only session. `freshness()` is the one place that chooses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from medmirror.settings import ConnectionInfo

FRESHNESS_VIEW = "marts.source_freshness"


class ReadOnlyConnection(ConnectionInfo):
    """A connection whose sessions cannot write (default_transaction_read_only) and stop
    statements running longer than `statement_timeout_ms`."""

    statement_timeout_ms: int = 30_000

    def connect(self):  # -> psycopg2 connection
        return read_only_connect(self, self.statement_timeout_ms)


def read_only_connect(connection: ConnectionInfo, statement_timeout_ms: int, name="medmirror"):
    import psycopg2

    return psycopg2.connect(
        **connection.psycopg_kwargs(),
        application_name=name,
        options=(
            f"-c default_transaction_read_only=on -c statement_timeout={int(statement_timeout_ms)}"
        ),
    )


def freshness(
    analyst: ConnectionInfo, sources: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """Per source (all, or those named): last successful load, the publisher's as-of date,
    newest record, raw rows, publisher vs mirror counts, verdict (fresh, stale, diverged,
    never loaded) and why, and the last run's error."""
    wanted = list(sources) if sources is not None else None
    rows = _from_view(analyst)
    if rows is None:
        rows = _from_load_logs(wanted)
    if wanted is not None:
        rows = [row for row in rows if row["source"] in wanted]
    return rows


def _from_view(analyst: ConnectionInfo) -> list[dict[str, Any]] | None:
    conn = read_only_connect(analyst, 10_000)
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass(%s) is not null", (FRESHNESS_VIEW,))
            if not cur.fetchone()[0]:
                return None
            cur.execute(f"select * from {FRESHNESS_VIEW} order by source")  # noqa: S608
            names = [column.name for column in cur.description]
            return [_plain(dict(zip(names, row, strict=True))) for row in cur.fetchall()]
    finally:
        conn.close()


def _from_load_logs(wanted: list[str] | None) -> list[dict[str, Any]]:
    from flows.access import connection_for
    from flows.sources import SOURCES
    from flows.status import dbt_manifest, source_status

    manifest = dbt_manifest()
    transformer = connection_for("transformer")
    reader = ReadOnlyConnection(**dataclasses.asdict(transformer))
    rows = []
    for spec in SOURCES.values():
        if wanted is not None and spec.name not in wanted:
            continue
        status = source_status(reader, spec, manifest=manifest)
        rows.append(
            _plain(
                {
                    "source": spec.name,
                    "last_loaded_at": status.last_loaded_at,
                    "publisher_as_of": status.publisher_as_of,
                    "newest_record": status.newest_record,
                    "raw_rows": status.raw_rows,
                    "publisher_vs_mirror": status.counts() or None,
                    "verdict": status.verdict,
                    "why": status.why,
                    "last_error": status.last_error,
                }
            )
        )
    return rows


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready values (dates as ISO text)."""
    return {
        name: value.isoformat() if isinstance(value, date | datetime) else value
        for name, value in row.items()
    }
