"""The Prometheus metrics (flows/metrics.py) after a landed refresh: the documented series,
with the values the run recorded, parsed as Prometheus parses them."""

from __future__ import annotations

import dataclasses
import urllib.request
from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from flows.access import connection_for
from flows.cli import app
from flows.metrics import exposition, serve_metrics, warehouse_reader
from flows.ops import RunRecord, record_run
from tests.conftest import SAMPLES, free_port, land_source, query

DOCUMENTED = {
    "medmirror_rows_landed",
    "medmirror_rejects",
    "medmirror_raw_rejects",
    "medmirror_refresh_runs",
    "medmirror_refresh_duration_seconds",
    "medmirror_last_refresh_duration_seconds",
    "medmirror_last_success_timestamp_seconds",
    "medmirror_last_run_failed",
    "medmirror_files_offered",
    "medmirror_source_last_load_timestamp_seconds",
    "medmirror_source_fresh",
    "medmirror_scrape_error",
}


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample as (name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_documented_series_after_a_landed_refresh(database):
    """The clinicaltrials samples landed as a refresh lands them, and the run recorded as
    the refresh flow records it; then a failed run of another source."""
    started = datetime.now(UTC) - timedelta(seconds=12)
    landed = land_source(database, "clinicaltrials", bulk_location=str(SAMPLES / "clinicaltrials"))
    assert landed.total_rows > 0
    transformer = connection_for("transformer")
    record_run(
        transformer,
        RunRecord(
            flow_run_id=None,
            source="clinicaltrials",
            way_in=str(SAMPLES / "clinicaltrials"),
            is_full=False,
            started_at=started,
            finished_at=started + timedelta(seconds=12),
            succeeded=True,
            rows_landed=landed.total_rows,
            rejected=landed.rejected,
            windows=landed.windows,
            error=None,
            files=tuple(landed.files.files.values()) if landed.files else (),
        ),
    )
    record_run(
        transformer,
        RunRecord(
            flow_run_id=None,
            source="pubmed",
            way_in="api",
            is_full=False,
            started_at=started,
            finished_at=started + timedelta(seconds=3),
            succeeded=False,
            rows_landed=0,
            rejected=0,
            windows=0,
            error="pubmed: page 1: the name eutils.ncbi.nlm.nih.gov does not resolve",
        ),
    )

    text = exposition(warehouse_reader()).decode()
    found = samples(text)

    assert {family.name for family in text_string_to_metric_families(text)} >= DOCUMENTED
    ct = (("source", "clinicaltrials"),)
    assert found[("medmirror_rows_landed_total", ct)] == landed.total_rows
    assert (
        found[("medmirror_rows_landed_total", ct)]
        == query(database, "select count(*) from raw_clinicaltrials.studies")[0][0]
    )
    assert found[("medmirror_refresh_runs_total", (("outcome", "succeeded"), *ct))] == 1
    assert found[("medmirror_refresh_runs_total", (("outcome", "failed"), *ct))] == 0
    assert found[("medmirror_refresh_duration_seconds_sum", ct)] == 12
    assert (
        found[("medmirror_last_success_timestamp_seconds", ct)]
        == (started + timedelta(seconds=12)).timestamp()
    )
    assert found[("medmirror_source_fresh", (("source", "clinicaltrials"), ("verdict", "fresh")))]
    assert found[("medmirror_raw_rejects", ct)] == landed.rejected
    pubmed = (("source", "pubmed"),)
    assert found[("medmirror_last_run_failed", pubmed)] == 1
    assert found[("medmirror_refresh_runs_total", (("outcome", "failed"), *pubmed))] == 1
    assert ("medmirror_last_success_timestamp_seconds", pubmed) not in found
    assert (
        found[("medmirror_source_fresh", (("source", "pubmed"), ("verdict", "never loaded")))] == 0
    )
    assert found[("medmirror_scrape_error", ())] == 0

    # The same text over HTTP (what `medmirror serve` starts) and from `medmirror metrics`.
    port = free_port()
    server = serve_metrics(warehouse_reader(), port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as answer:
            served = samples(answer.read().decode())
    finally:
        server.shutdown()
    printed = CliRunner().invoke(app, ["metrics"])
    assert printed.exit_code == 0, printed.output
    for series in (served, samples(printed.output)):
        assert series[("medmirror_rows_landed_total", ct)] == landed.total_rows


def test_a_warehouse_that_cannot_be_read_is_a_scrape_error(database):
    stopped = dataclasses.replace(warehouse_reader(), port=free_port())

    found = samples(exposition(stopped).decode())

    assert found == {("medmirror_scrape_error", ()): 1}
