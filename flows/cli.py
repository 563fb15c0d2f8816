"""The `medmirror` command line: thin wrappers over the flows for people and scripts."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from extract.credentials import password_setting, split_password
from flows.access import connection_for, prepare_roles
from medmirror.settings import load_settings
from medmirror.warehouse import EmbeddedWarehouse, WarehouseError

# Set by `medmirror --debug`: an error then shows its traceback.
DEBUG = False
# Set by `medmirror --verbose`: dbt's node lines are printed, not folded into one.
VERBOSE = False


class _App(typer.Typer):
    """The command line: an error nobody caught becomes one line naming it (its traceback
    with `--debug`), Ctrl-C ends the command at once."""

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except KeyboardInterrupt:
            err.print("interrupted", highlight=False)
            sys.exit(130)
        except Exception as failure:
            if DEBUG:
                raise
            err.print(
                f"[bold red]error:[/] {_one_line(failure)} (medmirror --debug ... shows where)",
                highlight=False,
                soft_wrap=True,
            )
            sys.exit(1)


app = _App(
    help="medmirror: a local, always-fresh warehouse of public medical data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(
    help="The embedded PostgreSQL (data in MEDMIRROR_DATA_DIR).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
report_app = typer.Typer(help="Reports on the data's quality, one per topic.", no_args_is_help=True)
app.add_typer(report_app, name="report")
console = Console()
err = Console(stderr=True)


@app.callback()
def _setup_logging(
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show an error's traceback, not only its line.")
    ] = False,
) -> None:
    global DEBUG, VERBOSE
    DEBUG, VERBOSE = debug, verbose
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, rich_tracebacks=False)],
        # Prefect puts its console handler on the root logger when it is imported: if a
        # command's imports brought it in first, that handler is replaced, or medmirror's
        # own INFO lines (dbt's summary, landing notes) would go nowhere.
        force=True,
    )
    for noisy in ("dlt", "urllib3", "httpx", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _one_line(failure: BaseException) -> str:
    """An error in one line: a database that cannot be reached names itself and the
    setting, anything else its first line of text."""
    import psycopg2

    from flows.preflight import first_line

    if isinstance(failure, psycopg2.OperationalError):
        return f"the database did not answer: {first_line(failure)}; is it running?"
    return first_line(failure)


def _preflight(sources: list[str] | None = None, bulk: str | None = None) -> None:
    """What a refresh needs, checked before Prefect starts (flows.preflight)."""
    from flows.preflight import Refused, check_bulk, check_database, check_sources

    try:
        check_sources(sources)
        check_bulk(bulk)
        check_database()
    except Refused as refused:
        raise _fail(str(refused)) from None


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


# -- medmirror db ----------------------------------------------------------------------


def _embedded() -> EmbeddedWarehouse:
    settings = load_settings()
    if not settings.uses_embedded_db:
        raise _fail("MEDMIRROR_DATABASE_URL is set: medmirror uses that PostgreSQL, not its own")
    return EmbeddedWarehouse(settings)


@db_app.command("start")
def db_start() -> None:
    """Start the embedded PostgreSQL (creating it on first use); refuse if it already runs."""
    warehouse = _embedded()
    try:
        running = warehouse.start()
        prepare_roles()
    except WarehouseError as failure:
        raise _fail(str(failure)) from None
    _init()
    console.print(
        f"PostgreSQL runs (pid {running.pid}) on 127.0.0.1:{running.port} and the socket in "
        f"{running.socket_dir}\n{warehouse.connection().url(with_password=False)}\n"
        "For a BI tool: medmirror db url"
    )


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL (its data stays)."""
    if _embedded().stop():
        console.print("PostgreSQL stopped")
    else:
        console.print("PostgreSQL was not running")


@db_app.command("status")
def db_status() -> None:
    """Whether the embedded PostgreSQL runs, where, and on which port. Exit 3 when stopped."""
    warehouse = _embedded()
    running = warehouse.status()
    if not running:
        console.print(f"not running (data folder {warehouse.pg_dir})")
        raise typer.Exit(3)
    console.print(
        f"running: pid {running.pid}, 127.0.0.1:{running.port}, socket {running.socket_dir}, "
        f"data {running.data_dir}"
    )


@db_app.command("url")
def db_url(
    role: Annotated[
        str,
        typer.Option(
            help="analyst (read-only on the marts: for BI tools), or loader, transformer, "
            "owner (the superuser: everything)"
        ),
    ] = "analyst",
) -> None:
    """The connection URL of the warehouse for a role (the analyst's unless another is
    asked for), with its password."""
    try:
        print(connection_for(role).url())
    except (WarehouseError, ValueError) as failure:
        raise _fail(str(failure)) from None


# -- init, refresh, demo, status, serve ----------------------------------------------


@app.command()
def init() -> None:
    """Create every raw schema and table (empty) that is missing, and the run log's tables.

    Idempotent: on an existing warehouse it adds what a newer medmirror declares (tables,
    columns) and touches no data. For your own PostgreSQL, run it once with
    MEDMIRROR_DATABASE_URL set; `medmirror db start` and every refresh run it too.
    """
    _init(report=True)


def _init(report: bool = False) -> None:
    from flows.init import init_warehouse
    from flows.ops import RefreshAlreadyRunning, refresh_lock

    try:
        with refresh_lock(connection_for("transformer")):
            result = init_warehouse()
    except (RefreshAlreadyRunning, WarehouseError) as failure:
        raise _fail(str(failure)) from None
    for source, tables in result.created.items():
        console.print(f"raw_{source}: created {', '.join(tables)}")
    for note in result.upgrade_notes():
        console.print(f"[yellow]upgrade:[/] {note}", highlight=False)
    if report and not result.changed:
        console.print("every raw table exists: nothing to do")


@app.command()
def refresh(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="A source to refresh (repeatable; default: all)."),
    ] = None,
    full: Annotated[bool, typer.Option(help="Pull everything again from the start.")] = False,
    bulk: Annotated[
        str | None,
        typer.Option(help="Read one source's release files from this folder, file or URL."),
    ] = None,
    dbt: Annotated[bool, typer.Option("--dbt/--no-dbt", help="Build the marts after.")] = True,
    quarters: Annotated[
        bool,
        typer.Option(
            help="FAERS: land the quarterly files FDA's page lists that have not landed, "
            "instead of asking openFDA."
        ),
    ] = False,
) -> None:
    """Extract sources incrementally (or --full), then dbt build what they feed."""
    # The arguments are checked before what they need is imported: the registry (every
    # source's package, dlt), then the flow (Prefect, dbt): seconds each.
    if bulk and len(source or []) != 1:
        raise _fail("--bulk goes with exactly one --source")
    from flows.sources import sources_with_listed_releases

    listed = sources_with_listed_releases()
    if quarters and (bulk or not set(source or []) & set(listed)):
        raise _fail(f"--quarters goes with --source {' or '.join(listed)}, without --bulk")
    _preflight(source, bulk)
    from flows.refresh import refresh as refresh_flow

    if bulk:
        # The flow (its Prefect parameters, the run log) gets the location without its
        # password; the extract takes the password from this process's environment.
        bulk, password = split_password(bulk)
        if password:
            os.environ[password_setting(source[0])] = password
    landed = _run_flow(
        lambda: refresh_flow(
            sources=source or None, full=full, bulk=bulk, run_dbt=dbt, quarters=quarters
        )
    )
    _print_landed(landed)


@app.command()
def demo() -> None:
    """Land the bundled real samples of every source offline, build the marts, show them."""
    from flows.demo import demo as demo_flow
    from flows.sources import SOURCES

    _preflight()
    console.print(f"warehouse: {connection_for('owner').url(with_password=False)}")
    _run_flow(demo_flow)
    _print_status()
    for spec in SOURCES.values():
        if spec.search and spec.samples:
            _print_search(spec.search.mart, spec.search.query, spec.search.shown)
    console.print(NEXT_STEPS)


EXAMPLE_QUERY = "select generic_name, total_formulations from drugs"
NEXT_STEPS = """Where to go next:
  medmirror changes --source pubmed           what changed since the first load (marts.changes)
  medmirror export                            Parquet snapshot of the marts + manifest.json
  medmirror sql -c "select generic_name, total_formulations from drugs"   DuckDB over it
  medmirror api                               read-only HTTP API, docs at http://127.0.0.1:8765/docs
  medmirror mcp                               MCP tools for AI assistants (stdio; --http for HTTP)
  medmirror db url --role analyst             connect a BI tool or psql to the marts"""


@app.command()
def status() -> None:
    """Per source: last successful load, the publisher's as-of date, newest record, rows,
    publisher vs mirror count, and a verdict: fresh, stale, diverged or never loaded."""
    try:
        _print_status()
    except WarehouseError as failure:  # the warehouse would not start, a lock wait ended
        raise _fail(str(failure)) from None


@app.command()
def drift(
    source: Annotated[
        str | None, typer.Option("--source", "-s", help="One source (default: all).")
    ] = None,
) -> None:
    """Per source: fields the publisher sends that staging does not read, and fields
    staging reads that are now empty or cannot be typed (from the latest landed records)."""
    from flows.sources import SOURCES, spec_of

    try:
        specs = [spec_of(source)] if source else list(SOURCES.values())
    except ValueError as unknown:
        raise _fail(str(unknown)) from None
    from flows.drift import RECENT_RECORDS, drift_report  # dbt: imported once the source is known

    connection = connection_for("transformer")
    shown = 50
    for spec in specs:
        report = drift_report(spec, connection, recent=RECENT_RECORDS)
        if not report.records:
            console.print(f"{spec.name}: no records landed in {report.raw_table}")
            continue
        checked = ", ".join(report.staging_checked) or "not built: types not checked"
        console.print(
            f"{spec.name}: the latest {report.records:,} records of {report.raw_table} "
            f"against {len(report.reads)} paths its staging reads (staging views: {checked})"
        )
        if report.unread:
            unread = Table(
                title=f"{spec.name}: {len(report.unread)} landed fields staging does not read"
                + (f" (top {shown} by records)" if len(report.unread) > shown else "")
            )
            unread.add_column("field", overflow="fold")
            unread.add_column("records", justify="right")
            for item in report.unread[:shown]:
                unread.add_row(item.path, f"{item.records:,}")
            console.print(unread)
        else:
            console.print(f"{spec.name}: staging reads every landed field")
        if report.problems:
            problems = Table(
                title=f"{spec.name}: {len(report.problems)} fields staging reads that are "
                "empty or untypable"
            )
            for column in ("field", "problem", "staging column", "records with a value", "example"):
                problems.add_column(column, overflow="fold")
            for item in report.problems:
                problems.add_row(
                    item.path,
                    item.problem,
                    f"{item.model}.{item.column}" if item.column else item.model,
                    f"{item.records_with_value:,} of {report.records:,}",
                    "-" if item.example is None else repr(item.example),
                )
            console.print(problems)
        else:
            console.print(f"{spec.name}: every field staging reads has values it can type")


@report_app.command("drugs")
def report_drugs() -> None:
    """Drug consolidation in numbers: labels in, drugs out, products and formulations
    linked (and not), the share with an RxNorm id, special-population coverage."""
    from flows.report import ReportNotBuilt, report

    try:
        lines = report(connection_for("transformer"), "drugs")
    except ReportNotBuilt as missing:
        raise _fail(str(missing)) from None
    table = Table(title="Drug consolidation (ops.drug_consolidation_report)")
    for column in ("metric", "value", "of", "share", "what it counts"):
        table.add_column(column, overflow="fold")
    for line in lines:
        value = f"{line.value:,}" if line.value is not None else "-"
        table.add_row(
            line.metric,
            value,
            "-" if line.out_of is None else f"{line.out_of:,}",
            "-" if line.share is None else f"{line.share:.1%}",
            line.description,
        )
    console.print(table)


@report_app.command("links")
def report_links() -> None:
    """Drug links in numbers: per source (trial interventions, PubMed chemicals, FAERS drug
    rows) the share linked to a drug, by method, and the ambiguous ones, listed."""
    from flows.report import ReportNotBuilt, refused_links, report

    connection = connection_for("transformer")
    try:
        lines = report(connection, "links")
    except ReportNotBuilt as missing:
        raise _fail(str(missing)) from None
    table = Table(title="Drug links (ops.drug_link_report)")
    for column in ("metric", "value", "of", "share", "what it counts"):
        table.add_column(column, overflow="fold")
    for line in lines:
        table.add_row(
            line.metric,
            f"{line.value:,}" if line.value is not None else "-",
            "-" if line.out_of is None else f"{line.out_of:,}",
            "-" if line.share is None else f"{line.share:.1%}",
            line.description,
        )
    console.print(table)
    total, refused = refused_links(connection)
    if not total:
        console.print("No ambiguous or conflicting names: every refusal is a name no drug has.")
        return
    listed = Table(
        title=f"{total:,} records not linked because they could mean several drugs "
        "(marts.drug_link_ambiguities)"
        + (f", first {len(refused)}" if total > len(refused) else "")
    )
    for column in ("source", "name", "why", "could be", "rows"):
        listed.add_column(column, overflow="fold")
    for item in refused:
        listed.add_row(
            item.source,
            item.source_text,
            item.outcome,
            ", ".join(item.candidate_drugs),
            f"{item.records:,}",
        )
    console.print(listed)


@app.command()
def search(
    query: str,
    mart: Annotated[str, typer.Option(help="The mart to search.")] = "clinical_trials",
    limit: Annotated[int, typer.Option(help="How many hits.")] = 10,
) -> None:
    """Full-text search of a mart, best hits first (e.g. medmirror search "growth hormone")."""
    from flows.sources import SOURCES

    shown = next(
        (
            spec.search.shown
            for spec in SOURCES.values()
            if spec.search and spec.search.mart == mart
        ),
        None,
    )
    if shown is None:
        searchable = sorted(spec.search.mart for spec in SOURCES.values() if spec.search)
        raise _fail(
            f"{mart} is not a searchable mart: use --mart with one of {', '.join(searchable)}"
        )
    _print_search(mart, query, shown, limit=limit)


@app.command()
def changes(
    since: Annotated[
        str | None,
        typer.Option(help="Changes medmirror saw on or after this date (YYYY-MM-DD)."),
    ] = None,
    source: Annotated[str | None, typer.Option("--source", "-s", help="One source.")] = None,
    limit: Annotated[int, typer.Option(help="How many changes, newest first.")] = 100,
) -> None:
    """What changed (marts.changes): new, updated and withdrawn records, status changes,
    new label versions, code changes, new signals; a source's first load is one row."""
    from datetime import date

    from flows.changes import ChangesNotBuilt
    from flows.changes import changes as changed

    try:
        day = date.fromisoformat(since) if since else None
    except ValueError:
        raise _fail(f"--since {since!r} is not a date (YYYY-MM-DD)") from None
    try:
        total, rows = changed(connection_for("transformer"), since=day, source=source, limit=limit)
    except ChangesNotBuilt as missing:
        raise _fail(str(missing)) from None
    if not rows:
        console.print("No changes" + (f" since {day}" if day else "") + ".")
        return
    shown = f", newest {len(rows)}" if total > len(rows) else ""
    table = Table(title=f"{total:,} changes (marts.changes){shown}")
    for column in ("seen", "source", "change", "record", "detail", "published"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            f"{row.seen_at:%Y-%m-%d %H:%M}",
            row.source,
            row.change_type,
            row.record_key or "",
            row.detail or "",
            str(row.published_date or ""),
        )
    console.print(table)


# -- serving: export, sql, api, mcp --------------------------------------------------


@app.command()
def export(
    directory: Annotated[
        str | None,
        typer.Argument(help="A new folder for the snapshot (default: data/exports/<UTC time>)."),
    ] = None,
    mart: Annotated[
        list[str] | None,
        typer.Option("--mart", "-m", help="A mart (repeatable; default: every built one)."),
    ] = None,
    split_rows: Annotated[
        int, typer.Option(help="Marts with more rows become a folder of files.")
    ] = 5_000_000,
) -> None:
    """Write the marts as Parquet (zstd) with a manifest.json: files, rows, checksums,
    column descriptions, source freshness and licences."""
    from pathlib import Path

    from serving.export import ExportError, default_directory, export_snapshot

    target = Path(directory) if directory else default_directory(load_settings().data_dir)

    def shown(result) -> None:
        files = len(result.files)
        console.print(f"{result.name}: {result.rows:,} rows, {files} file{'s' * (files != 1)}")

    try:
        manifest = export_snapshot(
            connection_for("analyst"), target, mart or None, split_rows=split_rows, on_mart=shown
        )
    except ExportError as failure:
        raise _fail(str(failure)) from None
    console.print(
        f"snapshot of {len(manifest['marts'])} marts in {target}\n"
        f"query it: medmirror sql {target} -c {EXAMPLE_QUERY!r}"
    )


@app.command()
def sql(
    directory: Annotated[
        str | None,
        typer.Argument(help="A snapshot folder (default: the newest under data/exports)."),
    ] = None,
    command: Annotated[
        str | None, typer.Option("--command", "-c", help="Run this query and exit.")
    ] = None,
    verify: Annotated[bool, typer.Option(help="Check the files' checksums first.")] = False,
) -> None:
    """DuckDB over a Parquet snapshot: a view per mart (`select * from drugs`). Without -c,
    an interactive prompt (end statements with ;, quit with .quit or Ctrl-D)."""
    from pathlib import Path

    from serving.duckdb_sql import open_snapshot, run, statements
    from serving.duckdb_sql import verify as verify_snapshot
    from serving.export import ExportError, latest_snapshot

    folder = Path(directory) if directory else latest_snapshot(load_settings().data_dir)
    if folder is None:
        raise _fail("no snapshot yet: run `medmirror export` first, or name a snapshot folder")
    if verify:
        problems = verify_snapshot(folder)
        if problems:
            raise _fail("the snapshot does not match its manifest: " + "; ".join(problems))
        console.print(f"{folder}: every file matches its checksum")
    try:
        connection = open_snapshot(folder)
    except ExportError as failure:
        raise _fail(str(failure)) from None

    def show(query: str) -> None:
        import duckdb

        try:
            result = run(connection, query)
        except duckdb.Error as failure:
            err.print(f"[bold red]error:[/] {failure}", highlight=False)
            if command:
                raise typer.Exit(1) from None
            return
        if result is None:
            return
        table = Table(show_lines=False)
        for column in result.columns:
            table.add_column(column, overflow="fold")
        for row in result.rows:
            table.add_row(*("NULL" if value is None else str(value) for value in row))
        console.print(table)
        console.print(f"{len(result.rows):,} rows", style="dim")

    if command:
        show(command)
        return
    console.print(f"DuckDB over {folder}: views {', '.join(_views(connection))}")

    def lines():
        while True:
            try:
                line = input("medmirror> ")
            except EOFError:
                return
            if line.strip() in (".quit", ".exit", "\\q"):
                return
            yield line

    for statement in statements(lines()):
        show(statement)


def _views(connection) -> list[str]:
    rows = connection.sql("select view_name from duckdb_views() where not internal order by 1")
    return [row[0] for row in rows.fetchall()]


@app.command()
def api(
    host: Annotated[
        str, typer.Option(help="Address to bind; beyond 127.0.0.1 needs MEDMIRROR_API_TOKEN.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    max_page_size: Annotated[int, typer.Option(help="Most rows a page may hold.")] = 1000,
    statement_timeout: Annotated[
        float, typer.Option(help="Seconds a query may run before it is stopped.")
    ] = 5.0,
) -> None:
    """The read-only HTTP API over the marts (FastAPI; docs at /docs), as the analyst role."""
    from serving.api import ApiSettings, BindRefused, serve

    settings = ApiSettings.from_environment(
        host=host,
        port=port,
        max_page_size=max_page_size,
        statement_timeout_ms=int(statement_timeout * 1000),
    )
    try:
        serve(settings, connection_for("analyst"))
    except BindRefused as refused:
        raise _fail(str(refused)) from None


@app.command()
def mcp(
    http: Annotated[bool, typer.Option("--http", help="Streamable HTTP instead of stdio.")] = False,
    host: Annotated[
        str, typer.Option(help="With --http: address; beyond 127.0.0.1 needs a token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --http: TCP port.")] = 8766,
) -> None:
    """MCP tools over the marts for AI assistants (search, drug_profile, trials_for,
    articles_for, adverse_event_signals, code_lookup, freshness): stdio, or --http."""
    from serving.api import TOKEN_VARIABLE, BindRefused
    from serving.mcp_tools import serve_http, serve_stdio

    if not http:
        serve_stdio(connection_for("analyst"))
        return
    try:
        serve_http(connection_for("analyst"), host, port, os.environ.get(TOKEN_VARIABLE) or None)
    except BindRefused as refused:
        raise _fail(str(refused)) from None


@app.command()
def serve(
    metrics_port: Annotated[
        int, typer.Option(help="Serve Prometheus metrics on 127.0.0.1:PORT/metrics (0: not).")
    ] = 8767,
    metrics_host: Annotated[str, typer.Option(help="Address the metrics bind.")] = "127.0.0.1",
) -> None:
    """Serve the Prefect deployments (refresh/daily, refresh/weekly-full, one per source),
    and the warehouse's Prometheus metrics (`medmirror metrics` lists them).

    Needs a Prefect server: run `prefect server start` and set PREFECT_API_URL first.
    """
    if not os.environ.get("PREFECT_API_URL"):
        raise _fail(
            "set PREFECT_API_URL to a running Prefect server first, e.g. `prefect server start` "
            "then export PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    from flows.deployments import serve_deployments
    from flows.metrics import serve_metrics, warehouse_reader

    if metrics_port:
        try:
            serve_metrics(warehouse_reader(), metrics_port, metrics_host)
        except OSError as taken:
            raise _fail(
                f"cannot serve metrics on {metrics_host}:{metrics_port} ({taken.strerror}): "
                "choose another with --metrics-port, or --metrics-port 0 for none"
            ) from None
        console.print(f"metrics: http://{metrics_host}:{metrics_port}/metrics")
    serve_deployments()


@app.command()
def storage(
    prune: Annotated[
        bool, typer.Option("--prune", help="Free what download retention frees, now.")
    ] = False,
) -> None:
    """Size per schema, raw record versions against current records per source, and the
    downloads retention keeps and would free ([downloads] keep_releases, default 1)."""
    from flows.sources import SOURCES
    from flows.storage import human_size as size_text
    from flows.storage import prune_downloads, storage_report

    downloads = load_settings().data_dir / "downloads"
    specs = list(SOURCES.values())
    report = storage_report(connection_for("transformer"), specs, downloads)
    schemas = Table(title="Size per schema")
    for column in ("schema", "size"):
        schemas.add_column(column)
    for name, size in report.schemas:
        schemas.add_row(name, size_text(size))
    console.print(schemas)
    sources = Table(title="Per source")
    for column in (
        "source",
        "raw size",
        "raw versions",
        "current records",
        "downloads kept",
        "retention frees",
    ):
        sources.add_column(column)
    for item in report.sources:
        kept = item.downloads
        sources.add_row(
            item.source,
            size_text(item.raw_bytes),
            f"{item.raw_versions:,}",
            f"{item.current_records:,}",
            f"{len(kept.kept)} files, {size_text(kept.kept_bytes)}" if kept else "-",
            size_text(kept.freed_bytes) if kept else "-",
        )
    console.print(sources)
    if not prune:
        console.print(
            f"retention would free {size_text(report.retention_frees)} of downloads "
            "(medmirror storage --prune frees it now; a refresh frees a source's after it)"
        )
        return
    freed = prune_downloads(specs, downloads)
    console.print(f"freed {size_text(sum(item.freed_bytes for item in freed))} of downloads")


@app.command()
def metrics() -> None:
    """The warehouse's Prometheus metrics once, as text (for a node_exporter textfile
    collector; `medmirror serve` and `medmirror api` serve them at /metrics)."""
    from flows.metrics import exposition, warehouse_reader

    sys.stdout.write(exposition(warehouse_reader()).decode())


class _NoTraceback(logging.Filter):
    """Prefect logs a failed task or flow with its traceback: the command says the error in
    one line instead (the traceback stays for `--debug`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        return True


def _run_flow(run):
    from flows.progress_line import progress_line

    if not DEBUG:
        for name in ("prefect.flow_runs", "prefect.task_runs"):
            logging.getLogger(name).addFilter(_NoTraceback())
    try:
        with progress_line(err, verbose=VERBOSE):
            return run()
    except Exception as failure:
        raise _fail(str(failure)) from None


FILES_SHOWN = 50


def _print_landed(landed: dict) -> None:
    """What each source landed, and every file a bulk run was offered (its outcome)."""
    for name, outcome in (landed or {}).items():
        if not isinstance(outcome, dict) or "rows" not in outcome:
            continue
        rows = sum(outcome["rows"].values())
        console.print(f"{name}: {rows:,} rows landed, {outcome['rejected']:,} rejected")
        files = outcome.get("files") or []
        if not files:
            continue
        table = Table(title=f"{name}: {len(files):,} files offered (ops.refresh_files)")
        for column in ("file", "outcome", "rows", "reason"):
            table.add_column(column, overflow="fold")
        for offered in files[:FILES_SHOWN]:
            table.add_row(
                offered["uri"],
                offered["outcome"],
                "-" if offered["rows"] is None else f"{offered['rows']:,}",
                offered["reason"] or "",
            )
        console.print(table)
        if len(files) > FILES_SHOWN:
            console.print(f"... and {len(files) - FILES_SHOWN:,} more in ops.refresh_files")
    for note in (landed or {}).get("upgrade_notes", []):
        console.print(f"[yellow]upgrade:[/] {note}", highlight=False)


def _print_status() -> None:
    from flows.sources import SOURCES
    from flows.status import dbt_manifest, source_status

    connection = connection_for("transformer")
    manifest = dbt_manifest()
    sources = Table(title="Sources")
    columns = (
        "source",
        "last successful load",
        "publisher as of",
        "newest record",
        "raw rows",
        "publisher / mirror count",
        "verdict",
    )
    for column in columns:
        sources.add_column(column)
    marts = Table(title="Marts")
    for column in ("mart", "rows", "fed by"):
        marts.add_column(column)
    for spec in SOURCES.values():
        status = source_status(connection, spec, manifest=manifest)
        verdict = status.verdict + (f": {status.why}" if status.why else "")
        if status.last_error:
            verdict += f"; last run failed: {status.last_error}"
        sources.add_row(
            spec.name,
            f"{status.last_loaded_at:%Y-%m-%d %H:%M} UTC" if status.last_loaded_at else "-",
            str(status.publisher_as_of or "-"),
            str(status.newest_record or "-"),
            f"{status.raw_rows:,}",
            status.counts() or "-",
            verdict,
        )
        for mart, rows in status.mart_rows.items():
            marts.add_row(mart, "not built" if rows is None else f"{rows:,}", spec.name)
    console.print(sources)
    console.print(marts)


def _print_search(mart: str, query: str, shown: tuple[str, ...], limit: int = 5) -> None:
    from flows.search import search as search_mart

    hits = search_mart(connection_for("analyst"), mart, query, shown, limit=limit)
    table = Table(title=f'Search {mart} for "{query}": {len(hits)} best hits')
    for column in (*shown, "rank"):
        table.add_column(column)
    for hit in hits:
        table.add_row(*(str(hit[column]) for column in shown), f"{hit['rank']:.3f}")
    console.print(table)


def main() -> None:  # pragma: no cover - `python -m flows.cli`
    app(sys.argv[1:])


if __name__ == "__main__":  # pragma: no cover
    main()
