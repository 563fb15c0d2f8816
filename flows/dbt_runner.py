"""Running dbt against the warehouse medmirror uses.

dbt gets the connection through a profile of its own: `profiles_dir_for` writes the
connection to `<data>/dbt/profiles.yml` (readable only by its owner, like the role
passwords beside it) and dbt is pointed at it with `--profiles-dir`. Its target folder
(the parsed manifest, `partial_parse.msgpack`) is `dbt_project/target` unless
`MEDMIRROR_DBT_TARGET_DIR` names another: processes that build at the same time (test
workers) each keep their own, and a repeated build of the same connection re-parses only
what changed.

dbt's console says only warnings and errors; its full log is `<target>/logs/dbt.log`. Each
node dbt finishes is a DEBUG record on the `flows.dbt_runner.progress` logger (the command
line folds them into one progress line; `--verbose` shows them), and each command ends with
one INFO line: how many nodes, how many failed, where the full log is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from dbt.cli.main import dbtRunner, dbtRunnerResult
from dbt.contracts.graph.manifest import Manifest

from medmirror.settings import DBT_PROJECT_DIR, ConnectionInfo, load_settings
from medmirror.warehouse import write_private

log = logging.getLogger(__name__)
progress_log = logging.getLogger(f"{__name__}.progress")

PROFILE = """\
medmirror:
  target: default
  outputs:
    default:
      type: postgres
      host: {host}
      port: {port}
      user: {user}
      password: {password}
      dbname: {database}
      schema: staging
      threads: 4
      connect_timeout: 10
"""


class DbtFailed(RuntimeError):
    """dbt ran but a model or test failed (the message lists which)."""


def selector_for(sources: Sequence[str]) -> list[str]:
    """dbt's `--select` for everything the given sources feed."""
    return [f"source:{name}+" for name in sources]


def build_sources(
    connection: ConnectionInfo, sources: Sequence[str], *, full: bool = False
) -> dbtRunnerResult:
    """`dbt build` of every model and test the given sources feed, and of the models
    those read that were never built (a mart fed by several sources reads the staging and
    intermediate models of the others: built once, empty if that source never landed)."""
    selected = selector_for(sources)
    args = [
        "build",
        "--select",
        *selected,
        *unbuilt_parents(connection, selected),
        # A test runs when every model it reads is built by this run or upstream of it (a
        # relationship to a mart of another source that this run does not build waits for
        # that source's own build, or a plain `dbt build`).
        "--indirect-selection",
        "buildable",
    ]
    if full:
        args.append("--full-refresh")
    return run_dbt(args, connection)


def unbuilt_parents(connection: ConnectionInfo, selected: Sequence[str]) -> list[str]:
    """The models upstream of `selected` whose relation does not exist in the warehouse.

    Most builds find every model built: one query over the warehouse's tables and the
    parsed project's models says so, and dbt's selection (`dbt ls`, about two CPU-seconds)
    runs only when some model is missing."""
    missing = {
        (model.schema, model.alias or model.name): model.name
        for model in manifest_for(connection).nodes.values()
        if model.resource_type == "model" and model.config.materialized != "ephemeral"
    }
    missing = _not_in_warehouse(connection, missing)
    if not missing:
        return []
    listed = run_dbt(
        [
            "ls",
            "--select",  # `@`: the selected models, and everything each of them reads
            *(f"@{selector.rstrip('+')}" for selector in selected),
            "--resource-type",
            "model",
            "--output",
            "json",
            "--output-keys",
            "name",
        ],
        connection,
        console="none",  # the list is read here, not printed
    ).result
    upstream = {json.loads(line)["name"] for line in listed or []}
    return sorted(upstream & set(missing.values()))


def _not_in_warehouse(
    connection: ConnectionInfo, relations: dict[tuple[str, str], str]
) -> dict[tuple[str, str], str]:
    """The entries of `relations` ((schema, name) -> model) with no table or view."""
    if not relations:
        return {}
    conn = connection.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(
                """
                select table_schema, table_name from information_schema.tables
                where table_schema = any(%s)
                """,
                (sorted({schema for schema, _ in relations}),),
            )
            existing = set(cur.fetchall())
    finally:
        conn.close()
    return {relation: model for relation, model in relations.items() if relation not in existing}


def manifest_for(connection: ConnectionInfo) -> Manifest:
    """The parsed project for `connection`'s database (parsed once per process and
    database: every node names its relation with the database, while the role and the
    server are the runtime's, which the project does not read while parsing)."""
    key = (load_settings().dbt_target_dir, connection.database)
    if key not in _MANIFESTS:
        result = _invoke(dbtRunner(), ["parse", *_options(connection)], ["parse"], connection)
        _MANIFESTS[key] = result.result
    return _MANIFESTS[key]


def run_dbt(
    args: Sequence[str], connection: ConnectionInfo, *, console: str | None = None
) -> dbtRunnerResult:
    """Invoke dbt (e.g. `["build", "--select", ...]`) on `connection`; raise if it fails.
    `console` is dbt's console log level (default: warnings, or dbt's usual lines when
    medmirror logs at DEBUG; "none" prints nothing, not even what `dbt ls` lists).

    The project is parsed once per process and database: later invocations reuse the
    parsed manifest (dbt's own `dbtRunner(manifest=...)`), so they skip parsing. The parse
    writes `manifest.json` (what `status` and the serving catalog read: sources, columns,
    descriptions); the commands after it write no JSON artifacts, whose only change would
    be the compiled SQL and timings of that run (about a CPU-second per build)."""
    options = _options(connection, console)
    target = load_settings().dbt_target_dir
    manifest = manifest_for(connection)
    artifacts = [] if list(args[:1]) == ["parse"] else ["--no-write-json"]
    progress = Progress(args[0] if args else "dbt")
    runner = dbtRunner(manifest=manifest, callbacks=[progress])
    try:
        return _invoke(runner, [*args, *options, *artifacts], args, connection)
    finally:
        if progress.done:
            log.info(
                "dbt %s: %s nodes, %s failed (full log: %s)",
                progress.command,
                progress.done,
                progress.failed,
                target / "logs" / "dbt.log",
            )


class Progress:
    """dbt's events as progress: nodes finished of the total dbt announced, and failures."""

    FAILED = frozenset({"error", "fail", "runtime error"})

    def __init__(self, command: str) -> None:
        self.command = command
        self.done = 0
        self.total = 0
        self.failed = 0

    def __call__(self, event) -> None:
        name, data = event.info.name, event.data
        if name == "LogStartLine":
            self.total = max(self.total, data.total)
        elif name == "LogTestResult":
            self.total = max(self.total, data.num_models)
        elif name == "NodeFinished":
            self.done += 1
            status = data.run_result.status
            self.failed += status in self.FAILED
            progress_log.debug(
                "dbt %s %s/%s: %s %s",
                self.command,
                self.done,
                self.total or "?",
                data.node_info.node_name,
                status,
                extra={"dbt_progress": self, "dbt_node": data.node_info.node_name},
            )


# Parsed projects of this process, by target folder and database.
_MANIFESTS: dict[tuple, Manifest] = {}


def _invoke(
    runner: dbtRunner, command: list[str], args: Sequence[str], connection: ConnectionInfo
) -> dbtRunnerResult:
    result = runner.invoke(command)
    if isinstance(result.exception, KeyboardInterrupt):  # dbt returns a Ctrl-C it caught
        raise result.exception
    if result.exception is not None:
        raise DbtFailed(f"dbt {_described(args)} could not run: {result.exception}")
    if not result.success:
        failures = "; ".join(_failures(result, connection))
        raise DbtFailed(f"dbt {_described(args)} failed: {failures}")
    return result


def _described(args: Sequence[str], shown: int = 8) -> str:
    """A dbt command for a message: its first arguments (a selection can name hundreds)."""
    if len(args) <= shown:
        return " ".join(args)
    return f"{' '.join(args[:shown])} ... ({len(args) - shown} more arguments)"


def _options(connection: ConnectionInfo, console: str | None = None) -> list[str]:
    """The options every dbt command of medmirror takes: project, profile, target, logs."""
    target = load_settings().dbt_target_dir
    return [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(profiles_dir_for(connection)),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
        # The console: warnings and errors (each node's line is a progress record), dbt's
        # usual lines too when medmirror logs at DEBUG (`--verbose`). The file log is
        # dbt's own setting: everything by default (debug), `DBT_LOG_LEVEL_FILE` to change.
        "--log-level",
        console or ("info" if logging.getLogger().isEnabledFor(logging.DEBUG) else "warn"),
        "--no-send-anonymous-usage-stats",
    ]


def profiles_dir_for(connection: ConnectionInfo) -> Path:
    """A folder holding a `profiles.yml` that reaches `connection` (written when changed)."""
    folder = load_settings().data_dir / "dbt"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = PROFILE.format(
        host=json.dumps(connection.host),
        port=connection.port,
        user=json.dumps(connection.user),
        password=json.dumps(connection.password),
        database=json.dumps(connection.database),
    )
    profile = folder / "profiles.yml"
    if not profile.exists() or profile.read_text() != text:
        write_private(profile, text)
    return folder


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
