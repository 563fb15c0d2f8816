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


def build_sources(
    connection: ConnectionInfo, sources: Sequence[str], *, full: bool = False
) -> dbtRunnerResult:
    """`dbt build` of every model and test the given sources feed and what those read,
    leaving out the models built only from sources that have never landed (their raw
    tables do not exist; a model reading several sources takes a missing one as empty
    through `landed_or_empty`)."""
    from flows.sources import SOURCES
    from flows.status import has_landed

    landed = {spec.name for spec in SOURCES.values() if has_landed(connection, spec)}
    args = ["build", "--select", *selector_for(sources)]
    unbuildable = models_without_landed_sources(connection, landed)
    if unbuildable:
        args += ["--exclude", *unbuildable]
    if full:
        args.append("--full-refresh")
    return run_dbt(args, connection)


def models_without_landed_sources(connection: ConnectionInfo, landed: set[str]) -> list[str]:
    """The models that cannot be built yet: those none of whose sources (direct or through
    other models) has landed, and those reading one of them by a plain `ref` (a model
    reading it through `landed_or_empty` takes it as empty instead, and one naming it in
    a `-- depends_on:` comment only builds after it)."""
    manifest = run_dbt(["parse"], connection).result
    sources: dict[str, set[str]] = {}
    blocked: dict[str, bool] = {}

    def sources_of(unique_id: str) -> set[str]:
        if unique_id in manifest.sources:
            return {manifest.sources[unique_id].source_name}
        if unique_id not in sources:
            node = manifest.nodes.get(unique_id)
            parents = node.depends_on.nodes if node is not None else []
            sources[unique_id] = set().union(*(sources_of(parent) for parent in parents))
        return sources[unique_id]

    def is_blocked(unique_id: str) -> bool:
        if unique_id not in blocked:
            node = manifest.nodes[unique_id]
            found = sources_of(unique_id)
            blocked[unique_id] = bool(found) and not found & landed
            for parent in node.depends_on.nodes:
                parent_node = manifest.nodes.get(parent)
                if parent_node is None or parent_node.resource_type != "model":
                    continue
                # Read through landed_or_empty, or named only to order the build.
                code = node.raw_code.replace(" ", "")
                tolerated = any(
                    f"{reader}ref('{parent_node.name}')" in code
                    for reader in ("landed_or_empty(", "--depends_on:{{")
                )
                if not tolerated and is_blocked(parent):
                    blocked[unique_id] = True
        return blocked[unique_id]

    return sorted(
        node.name
        for unique_id, node in manifest.nodes.items()
        if node.resource_type == "model" and is_blocked(unique_id)
    )


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
