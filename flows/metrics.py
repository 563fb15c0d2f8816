"""Prometheus metrics of the warehouse, read from it at each scrape (`prometheus_client`).

Every series comes from what refreshes recorded in the warehouse itself (`ops.refresh_runs`,
`ops.refresh_files`, each `raw_<source>.rejects`, the raw schemas' load logs), so any
process can serve them and a restart loses nothing: `medmirror serve` (its own port,
`--metrics-port`), `medmirror api` (`GET /metrics`) and `medmirror metrics` (the text once,
for a node_exporter textfile collector) all serve the same.

| series | type | labels | meaning |
|---|---|---|---|
| `medmirror_rows_landed_total` | counter | source | rows landed by every recorded run |
| `medmirror_rejects_total` | counter | source | bad inputs skipped by every recorded run |
| `medmirror_raw_rejects` | gauge | source | rows in `raw_<source>.rejects` now |
| `medmirror_refresh_runs_total` | counter | source, outcome | runs that `succeeded` / `failed` |
| `medmirror_refresh_duration_seconds` | summary | source | run durations (count, sum) |
| `medmirror_last_refresh_duration_seconds` | gauge | source | the latest run's duration |
| `medmirror_last_success_timestamp_seconds` | gauge | source | end of the latest successful run |
| `medmirror_last_run_failed` | gauge | source | 1 when the latest run failed |
| `medmirror_files_offered_total` | counter | source, outcome | bulk files by outcome |
| `medmirror_source_last_load_timestamp_seconds` | gauge | source | latest committed load |
| `medmirror_source_fresh` | gauge | source, verdict | 1 fresh, 0 stale or never loaded |
| `medmirror_scrape_error` | gauge | | 1 when the warehouse could not be read |
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector
from psycopg2 import sql

from medmirror.settings import ConnectionInfo

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

RUNS_BY_SOURCE = """
select
    source,
    count(*) filter (where succeeded),
    count(*) filter (where not succeeded),
    coalesce(sum(rows_landed), 0),
    coalesce(sum(rejected), 0),
    coalesce(sum(extract(epoch from finished_at - started_at)), 0),
    max(finished_at) filter (where succeeded)
from ops.refresh_runs
group by source
"""
LATEST_RUN = """
select distinct on (source)
    source, extract(epoch from finished_at - started_at), not succeeded
from ops.refresh_runs
order by source, run_id desc
"""
FILES_BY_OUTCOME = """
select runs.source, files.outcome, count(*)
from ops.refresh_files as files
join ops.refresh_runs as runs using (run_id)
group by 1, 2
"""


class WarehouseCollector(Collector):
    """Reads the series above from the warehouse at `connection` when scraped."""

    def __init__(self, connection: ConnectionInfo, sources: list[str] | None = None) -> None:
        self.connection = connection
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        failed = GaugeMetricFamily(
            "medmirror_scrape_error", "1 when the warehouse could not be read at this scrape"
        )
        try:
            families = self._read()
        except Exception as failure:  # the scrape says so; the server keeps serving
            log.warning("metrics: the warehouse could not be read: %s", failure)
            failed.add_metric([], 1)
            yield failed
            return
        yield from families
        failed.add_metric([], 0)
        yield failed

    def _read(self) -> list[Metric]:
        from flows.reconcile import latest_reconciliation
        from flows.sources import SOURCES
        from flows.status import SourceStatus, dbt_manifest, freshness_rule
        from flows.status import verdict as verdict_of

        manifest = dbt_manifest()

        names = self.sources or list(SOURCES)
        rows = CounterMetricFamily(
            "medmirror_rows_landed", "Rows landed by recorded refresh runs", labels=["source"]
        )
        rejects = CounterMetricFamily(
            "medmirror_rejects", "Bad inputs skipped by recorded refresh runs", labels=["source"]
        )
        runs = CounterMetricFamily(
            "medmirror_refresh_runs",
            "Refresh runs of a source by outcome",
            labels=["source", "outcome"],
        )
        durations = SummaryMetricFamily(
            "medmirror_refresh_duration_seconds",
            "Durations of a source's refresh runs",
            labels=["source"],
        )
        last_duration = GaugeMetricFamily(
            "medmirror_last_refresh_duration_seconds",
            "Duration of a source's latest refresh run",
            labels=["source"],
        )
        last_success = GaugeMetricFamily(
            "medmirror_last_success_timestamp_seconds",
            "When a source's latest successful refresh run ended (Unix time)",
            labels=["source"],
        )
        last_failed = GaugeMetricFamily(
            "medmirror_last_run_failed",
            "1 when a source's latest refresh run failed",
            labels=["source"],
        )
        files = CounterMetricFamily(
            "medmirror_files_offered",
            "Bulk files offered to refresh runs, by outcome",
            labels=["source", "outcome"],
        )
        raw_rejects = GaugeMetricFamily(
            "medmirror_raw_rejects", "Rows in raw_<source>.rejects", labels=["source"]
        )
        last_load = GaugeMetricFamily(
            "medmirror_source_last_load_timestamp_seconds",
            "When a source's latest load committed (Unix time, its raw schema's load log)",
            labels=["source"],
        )
        fresh = GaugeMetricFamily(
            "medmirror_source_fresh",
            "1 when a source is fresh by its dbt freshness rule, else 0",
            labels=["source", "verdict"],
        )
        conn = self.connection.connect()
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                if _exists(cur, "ops", "refresh_runs"):
                    cur.execute(RUNS_BY_SOURCE)
                    for source, ok, bad, landed, skipped, seconds, ended in cur.fetchall():
                        rows.add_metric([source], landed)
                        rejects.add_metric([source], skipped)
                        runs.add_metric([source, "succeeded"], ok)
                        runs.add_metric([source, "failed"], bad)
                        durations.add_metric([source], ok + bad, float(seconds))
                        if ended is not None:
                            last_success.add_metric([source], ended.timestamp())
                    cur.execute(LATEST_RUN)
                    for source, seconds, was_failure in cur.fetchall():
                        last_duration.add_metric([source], float(seconds))
                        last_failed.add_metric([source], int(was_failure))
                if _exists(cur, "ops", "refresh_files"):
                    cur.execute(FILES_BY_OUTCOME)
                    for source, outcome, count in cur.fetchall():
                        files.add_metric([source, outcome], count)
                for name in names:
                    schema = SOURCES[name].raw_schema
                    if _exists(cur, schema, "rejects"):
                        cur.execute(
                            sql.SQL("select count(*) from {}.rejects").format(
                                sql.Identifier(schema)
                            )
                        )
                        raw_rejects.add_metric([name], cur.fetchone()[0])
                    loaded = None
                    if _exists(cur, schema, "_dlt_loads"):
                        cur.execute(
                            sql.SQL(
                                "select max(inserted_at) from {}._dlt_loads where status = 0"
                            ).format(sql.Identifier(schema))
                        )
                        loaded = cur.fetchone()[0]
                    if loaded is not None:
                        last_load.add_metric([name], loaded.timestamp())
                    status = SourceStatus(
                        source=name, last_loaded_at=loaded, newest_record=None, raw_rows=0
                    )
                    status.reconciliation = latest_reconciliation(cur, name)
                    rule = freshness_rule(SOURCES[name], manifest)
                    verdict, _why = verdict_of(status, rule, _now())
                    fresh.add_metric([name, verdict], int(verdict == "fresh"))
        finally:
            conn.close()
        return [
            rows,
            rejects,
            runs,
            durations,
            last_duration,
            last_success,
            last_failed,
            files,
            raw_rejects,
            last_load,
            fresh,
        ]


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _exists(cur, schema: str, table: str) -> bool:
    cur.execute("select to_regclass(%s) is not null", (f'"{schema}"."{table}"',))
    return cur.fetchone()[0]


def warehouse_reader() -> ConnectionInfo:
    """How the metrics read the warehouse: as the transformer role (the analyst's may not
    read `ops` or raw), in read-only sessions with a statement timeout."""
    import dataclasses

    from flows.access import connection_for
    from serving.freshness import ReadOnlyConnection

    return ReadOnlyConnection(**dataclasses.asdict(connection_for("transformer")))


def registry_for(connection: ConnectionInfo) -> CollectorRegistry:
    """A registry holding only the warehouse's series (none of the process's own)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WarehouseCollector(connection))
    return registry


def exposition(connection: ConnectionInfo) -> bytes:
    """The Prometheus text exposition of the warehouse's series now."""
    return generate_latest(registry_for(connection))


def serve_metrics(connection: ConnectionInfo, port: int, host: str = "127.0.0.1"):
    """Serve `/metrics` on `host:port` from a background thread; returns the server."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=registry_for(connection))
    return server
