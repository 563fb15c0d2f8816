"""Running dbt against the warehouse medmirror uses."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from dbt.cli.main import dbtRunner, dbtRunnerResult

from medmirror.settings import DBT_PROJECT_DIR, PROJECT_DIR, ConnectionInfo

log = logging.getLogger(__name__)


class DbtFailed(RuntimeError):
    """dbt ran but a model or test failed (the message lists which)."""


def selector_for(sources: Sequence[str]) -> list[str]:
    """dbt's `--select` for everything the given sources feed."""
    return [f"source:{name}+" for name in sources]


def excluded_for(sources: Sequence[str]) -> list[str]:
    """dbt's `--exclude` for everything fed by sources that have never landed: a mart fed
    by the Orange Book and DailyMed cannot be built before DailyMed has landed."""
    return [f"source:{name}+" for name in sources]


def build_sources(
    connection: ConnectionInfo, sources: Sequence[str], *, full: bool = False
) -> dbtRunnerResult:
    """`dbt build` of every model and test the given sources feed, leaving out what also
    needs a source that has never landed (unless its marts can do without it)."""
    from flows.sources import SOURCES
    from flows.status import has_landed

    args = ["build", "--select", *selector_for(sources)]
    never_landed = [
        spec.name
        for spec in SOURCES.values()
        if not spec.optional_for_marts and not has_landed(connection, spec)
    ]
    if never_landed:
        args += ["--exclude", *excluded_for(never_landed)]
    if full:
        args.append("--full-refresh")
    return run_dbt(args, connection)


def run_dbt(args: Sequence[str], connection: ConnectionInfo) -> dbtRunnerResult:
    """Invoke dbt (e.g. `["build", "--select", ...]`) on `connection`; raise if it fails."""
    command = [
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
    ]
    with _environment(connection.dbt_env() | {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}):
        result = dbtRunner().invoke(command)
    if result.exception is not None:
        raise DbtFailed(f"dbt {' '.join(args)} could not run: {result.exception}")
    if not result.success:
        raise DbtFailed(f"dbt {' '.join(args)} failed: {'; '.join(_failures(result, connection))}")
    return result


def _failures(result: dbtRunnerResult, connection: ConnectionInfo) -> list[str]:
    failures = []
    for node_result in getattr(result.result, "results", None) or []:
        if str(node_result.status) in ("error", "fail", "runtime error"):
            rows = _failing_rows(node_result, connection)
            failures.append(f"{node_result.node.name}: {node_result.message}{rows}")
    return failures or ["see the dbt log above"]


def _failing_rows(node_result, connection: ConnectionInfo, shown: int = 5) -> str:
    """The first rows a failed test stored (tests with `store_failures`), as text."""
    relation = getattr(node_result.node, "relation_name", None)
    if str(node_result.status) != "fail" or not relation:
        return ""
    try:
        conn = connection.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f"select * from {relation} limit {shown}")  # noqa: S608
                names = [column.name for column in cur.description]
                rows = cur.fetchall()
        finally:
            conn.close()
    except Exception as unreadable:  # the failure itself is what matters
        log.warning("could not read the failing rows of %s: %s", relation, unreadable)
        return ""
    listed = "; ".join(
        ", ".join(f"{name}={value}" for name, value in zip(names, row, strict=True)) for row in rows
    )
    return f" (failing rows: {listed})" if listed else ""


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """profiles.yml reads its settings from the environment: set them for one dbt call."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
