"""The `refresh` flow: extract the chosen sources, then `dbt build` what they feed.

`prefect deployment run 'refresh/daily'` and `medmirror refresh` both run this flow.
Extracts are tasks retried when the publisher was unavailable and not retried when
retrying cannot help (a rejected request, a malformed page or file).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import prefect.runtime
from prefect import flow, get_run_logger, task
from prefect.states import State

from extract.bulk import Outcome, close_account
from extract.credentials import password_setting, split_password
from extract.landing import LandingResult, land, pipeline_for, wrapped_in
from extract.retention import prune
from flows.access import connection_for
from flows.dbt_runner import build_sources
from flows.init import init_warehouse
from flows.ops import (
    RunRecord,
    data_quality,
    mark_built,
    record_run,
    refresh_lock,
    unbuilt_sources,
)
from flows.reconcile import reconcile, record_reconciliation
from flows.sources import SOURCES, spec_of
from medmirror.settings import load_settings

LANDED_OR_KNOWN = (Outcome.LANDED, Outcome.ALREADY_LANDED)


def _retry_if_transient(task: Any, task_run: Any, state: State) -> bool:
    """Retry only failures a later attempt can fix (the publisher was unavailable)."""
    if not state.is_failed():
        return False
    error = state.result(raise_on_failure=False)
    return bool(getattr(error, "retryable", False))


@task(retries=2, retry_delay_seconds=[60, 300], retry_condition_fn=_retry_if_transient)
def extract_source(
    name: str, full: bool = False, bulk: str | None = None, quarters: bool = False
) -> dict[str, Any]:
    """Land one source into `raw_<name>`, window by window; log the run in `ops`.

    `quarters`: a source with release files listed on its publisher's page besides its
    API (FAERS) lands those not landed yet instead of asking the API."""
    logger = get_run_logger()
    settings = load_settings()
    spec = spec_of(name)
    pipeline = pipeline_for(name, connection_for("loader"), settings.dlt_dir)
    started = datetime.now(UTC)
    result = LandingResult(source=name)

    def progress(so_far: LandingResult) -> None:
        logger.info(
            "%s: window %d committed, %d rows landed so far",
            name,
            so_far.windows,
            so_far.total_rows,
        )

    listed = quarters and spec.listed_releases is not None

    def make_source():
        return spec.build(
            bulk=bulk, download_dir=settings.data_dir / "downloads", listed_releases=listed
        )

    error: str | None = None
    try:
        result = land(
            pipeline,
            make_source,
            tables=spec.tables,
            full=full,
            on_window=progress,
            bulk=bool(bulk) or listed,
        )
    except Exception as failure:
        result.files = close_account(name)  # what the run was offered before it failed
        result.notes.extend(result.files.notes if result.files else ())
        if wrapped_in(failure, KeyboardInterrupt):  # dlt wraps a Ctrl-C: stop the run
            error = "interrupted (Ctrl-C)"
            raise KeyboardInterrupt from failure
        error = str(failure)
        raise
    finally:
        record_run(
            connection_for("transformer"),
            RunRecord(
                flow_run_id=_flow_run_id(),
                source=name,
                way_in=way_in(result, bulk=bulk),
                is_full=full,
                started_at=started,
                finished_at=datetime.now(UTC),
                succeeded=error is None,
                rows_landed=result.total_rows,
                rejected=result.rejected,
                windows=result.windows,
                error=error,
                notes=tuple(result.notes),
                files=tuple(result.files.files.values()) if result.files else (),
            ),
        )
    logger.info("%s: landed %d rows in %.1f s", name, result.total_rows, result.seconds)
    for table, repeated in result.repeated.items():
        logger.info("%s: %d rows of %s repeated versions raw held: not kept", name, repeated, table)
    freed = prune(settings.data_dir / "downloads" / name)  # download retention
    if freed.freed:
        logger.info("%s: retention freed %d bytes of older downloads", name, freed.freed_bytes)
    transformer = connection_for("transformer")
    reconciled = reconcile(transformer, result, bulk=bool(bulk) or listed)
    record_reconciliation(transformer, reconciled)
    for row in reconciled:
        (logger.info if row.agrees else logger.warning)(
            "%s: %s: publisher %s, mirror %s (%s)",
            name,
            row.counted,
            "-" if row.publisher_count is None else f"{row.publisher_count:,}",
            "-" if row.mirror_count is None else f"{row.mirror_count:,}",
            "agree" if row.agrees else "diverged",
        )
    if result.rejected:
        logger.warning(
            "%s: %d bad inputs skipped, listed in raw_%s.rejects", name, result.rejected, name
        )
    for note in result.notes:
        logger.warning("%s: %s", name, note)
    files = list(result.files.files.values()) if result.files else []
    if files:
        logger.info("%s: %s", name, result.files.summary())
        for offered in files:
            log = logger.info if offered.outcome in LANDED_OR_KNOWN else logger.warning
            log("%s: %s", name, offered.describe())
    return {
        "rows": result.rows,
        "rejected": result.rejected,
        "windows": result.windows,
        "seconds": result.seconds,
        "files": [asdict(offered) for offered in files],
        "reconciliation": [
            {
                "counted": row.counted,
                "publisher_count": row.publisher_count,
                "mirror_count": row.mirror_count,
            }
            for row in reconciled
        ],
    }


def way_in(result: LandingResult, *, bulk: str | None) -> str:
    """How the run reached the publisher's data, for `ops.refresh_runs`: the bulk
    location; the publisher's pages it found release files on ("releases page URL");
    the URL it downloaded release files from without a page ("release files URL": the
    Orange Book's current release); else "api"."""
    if bulk:
        return bulk
    files = result.files
    if files and files.pages:
        return "releases page " + ", ".join(files.pages)
    fetched = (files.downloads or [offered.uri for offered in files.landed]) if files else []
    if fetched:
        more = f" and {len(fetched) - 1} more" if len(fetched) > 1 else ""
        return f"release files {fetched[0]}{more}"
    return "api"


@task
def build_marts(sources: Sequence[str], full: bool = False) -> None:
    """`dbt build` of every model and test downstream of the given sources (and of the
    models they read that were never built)."""
    build_sources(connection_for("transformer"), sources, full=full)


def landed_rows(outcome: dict[str, Any]) -> bool:
    """Whether an extract's outcome (what `extract_source` returns) landed any row."""
    return any(outcome.get("rows", {}).values())


def build_landed(new: Sequence[str], sources: Sequence[str], *, full: bool = False) -> list[str]:
    """Build what `new` landed in this run, and what earlier runs of `sources` landed that
    no build followed (a refresh killed in its build, one with `--no-dbt`, a failed
    build); record it built. Returns the sources built."""
    transformer = connection_for("transformer")
    earlier = sorted(unbuilt_sources(transformer) & set(sources) - set(new))
    for name in earlier:
        get_run_logger().info("%s: built now what an earlier run landed", name)
    built = [*new, *earlier]
    if built:
        build_marts(built, full=full)
        mark_built(transformer, built)
    return built


@task
def prepare_warehouse() -> list[str]:
    """`medmirror init`: every raw table exists before anything lands; what an upgrade
    added, and what to rebuild because of it, is returned (and logged)."""
    return init_warehouse().upgrade_notes()


@flow(name="refresh")
def refresh(
    sources: list[str] | None = None,
    full: bool = False,
    bulk: str | None = None,
    run_dbt: bool = True,
    quarters: bool = False,
) -> dict[str, Any]:
    """Refresh `sources` (all by default): incremental, or `full` from the start date.

    `bulk` reads one source's release files from a folder, file or URL instead of its API.
    `quarters`: FAERS lands the quarterly files FDA's page lists that have not landed,
    instead of asking openFDA (the other sources are refreshed as usual).
    """
    names = list(sources or SOURCES)
    for name in names:
        spec_of(name)  # an unknown name fails before anything runs
    if bulk and len(names) != 1:
        raise ValueError("bulk files belong to one source: name exactly one")
    if bulk:  # the run log and the tasks get the location without its password
        bulk, password = split_password(bulk)
        if password:
            os.environ[password_setting(names[0])] = password
    with refresh_lock(connection_for("transformer")):
        upgrade_notes = prepare_warehouse()
        landed = _refresh_locked(names, full=full, bulk=bulk, run_dbt=run_dbt, quarters=quarters)
        if upgrade_notes:
            landed["upgrade_notes"] = upgrade_notes
        return landed


def _refresh_locked(
    names: list[str], *, full: bool, bulk: str | None, run_dbt: bool, quarters: bool = False
) -> dict:
    logger = get_run_logger()
    landed: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for name in names:
        reason = None if bulk else spec_of(name).skip_reason()
        if reason:  # an API that needs the user's own token, not configured
            logger.warning(reason)
            landed[name] = {"skipped": reason}
            continue
        state = extract_source.with_options(name=name)(
            name, full, bulk, quarters, return_state=True
        )
        if state.is_completed():
            landed[name] = state.result()
        else:
            failed[name] = str(state.result(raise_on_failure=False))
            logger.error("%s: extract failed: %s", name, failed[name])
    new = [name for name, outcome in landed.items() if landed_rows(outcome)]
    for name in sorted(set(landed) - set(new)):
        logger.info("%s: nothing new landed", name)
    built = build_landed(new, list(landed), full=full) if run_dbt else []
    if built:
        for name, checks in data_quality(connection_for("transformer"), built).items():
            landed[name]["data_quality"] = checks
            for check in checks:
                logger.info(
                    "%s: data quality: %s: %s of %s rows complete, %s valid",
                    name,
                    check["check_name"],
                    check["rows_complete"],
                    check["rows_checked"],
                    check["rows_valid"],
                )
    if failed:
        raise RuntimeError(
            "refresh failed for " + "; ".join(f"{name}: {why}" for name, why in failed.items())
        )
    return landed


def _flow_run_id() -> str | None:
    return prefect.runtime.flow_run.id
