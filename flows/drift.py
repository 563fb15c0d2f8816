"""Schema drift: what a publisher now sends that staging does not read, and what staging
reads that the publisher no longer sends (or sends as something staging cannot type).

For one source, the JSON paths of its most recent landed records (the newest
`RECENT_RECORDS` rows by `_dlt_load_id`, deletion notices left out) are enumerated inside
PostgreSQL and compared with the paths its staging models read: dbt compiles the staging
models that select from the source's raw table and sqlglot parses their SQL
(flows/staging_reads.py), so a path read through a macro or an alias of `record` counts,
and so does the path each of the raw table's own columns is filled from
(`RawTable.record_paths`: `nct_id` is `protocolSection.identificationModule.nctId`).
Array elements are one `[]` step: `protocolSection.conditionsModule.conditions[]`.

- unread: a landed path that no staging path equals or is a prefix of. Only the topmost
  such path is listed (`derivedSection`, not each of its hundreds of leaves), so a new
  field shows up next to the fields that are read.
- empty: a path staging reads that no recent record has a non-null value at (a field
  renamed or dropped by the publisher).
- untypable: a path with values in the recent records whose typed staging column is null
  in every one of those rows (a number sent as a word), compared with the built staging
  view when it exists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from psycopg2 import sql

from extract.spec import SourceSpec
from flows.staging_reads import ARRAY_STEP, StagingRead, Steps, compiled_staging, staging_reads
from medmirror.settings import ConnectionInfo, load_settings
from medmirror.warehouse import resolve_connection

log = logging.getLogger(__name__)

RECENT_RECORDS = 1_000
STAGING_SCHEMA = "staging"
EMPTY = "empty"
UNTYPABLE = "untypable"


@dataclass(frozen=True)
class UnreadField:
    path: str
    records: int  # how many of the recent records carry it


@dataclass(frozen=True)
class ReadProblem:
    path: str
    problem: str  # EMPTY or UNTYPABLE
    model: str
    column: str | None
    records_with_value: int  # recent records with a non-null value at the path
    example: str | None = None  # an untypable value as landed


@dataclass
class DriftReport:
    source: str
    raw_table: str  # schema-qualified
    records: int  # the recent records compared
    reads: list[StagingRead] = field(default_factory=list)
    unread: list[UnreadField] = field(default_factory=list)  # most common first
    problems: list[ReadProblem] = field(default_factory=list)
    staging_checked: list[str] = field(default_factory=list)  # views compared for types

    @property
    def unread_paths(self) -> list[str]:
        return [item.path for item in self.unread]

    @property
    def empty_paths(self) -> list[str]:
        return [item.path for item in self.problems if item.problem == EMPTY]

    @property
    def untypable_paths(self) -> list[str]:
        return [item.path for item in self.problems if item.problem == UNTYPABLE]


def render(path: Steps) -> str:
    """`("a", "b", "[]", "c")` as `a.b[].c`."""
    text = ""
    for step in path:
        text += step if step == ARRAY_STEP or not text else f".{step}"
    return text


def source_reads(spec: SourceSpec, connection: ConnectionInfo) -> list[StagingRead]:
    """What the staging models selecting from the source's main raw table read of it."""
    table = next(table for table in spec.raw_tables if table.name == spec.status_table)
    reads: list[StagingRead] = []
    for model in sorted(compiled_staging(connection).values(), key=lambda model: model.name):
        if (spec.name, spec.status_table) in model.sources:
            for read in staging_reads(model.sql, model.name, table.record_paths):
                if read not in reads:
                    reads.append(read)
    return reads


# -- the report ----------------------------------------------------------------------


def drift_report(
    spec: SourceSpec,
    connection: ConnectionInfo | None = None,
    *,
    recent: int = RECENT_RECORDS,
) -> DriftReport:
    """Compare the source's most recent `recent` landed records with its staging models."""
    connection = connection or resolve_connection(load_settings())
    report = DriftReport(
        source=spec.name, raw_table=f"{spec.raw_schema}.{spec.status_table}", records=0
    )
    report.reads = source_reads(spec, connection)
    conn = connection.connect()
    # One snapshot for every query: a load landing meanwhile does not change "recent".
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    try:
        with conn.cursor() as cur:
            raw_columns = _columns(cur, spec.raw_schema, spec.status_table)
            if not raw_columns:
                log.info("%s: nothing landed yet in %s", spec.name, report.raw_table)
                return report
            recent_rows = _recent_rows(spec, raw_columns)
            params = {"recent": recent}
            report.records, landed = _landed_paths(cur, recent_rows, params)
            if report.records == 0:
                return report
            report.unread = _unread(landed, report.reads)
            report.problems += _empty(cur, recent_rows, params, report.reads)
            for model in sorted({read.model for read in report.reads}):
                problems = _untypable(cur, recent_rows, params, raw_columns, report, model)
                report.problems += problems
    finally:
        conn.close()
    return report


def _columns(cur, schema: str, table: str) -> dict[str, str]:
    """Column name -> data type of a table or view (empty when it does not exist)."""
    cur.execute(
        """
        select column_name, data_type from information_schema.columns
        where table_schema = %s and table_name = %s
        order by ordinal_position
        """,
        (schema, table),
    )
    return dict(cur.fetchall())


def _recent_rows(spec: SourceSpec, raw_columns: dict[str, str]) -> sql.Composed:
    """The newest landed records (not deletion notices), every raw column but `record`
    as is and `record` as jsonb. Takes `%(recent)s`."""
    not_deleted = sql.SQL("and not coalesce(deleted, false)" if "deleted" in raw_columns else "")
    kept = [sql.Identifier(name) for name in raw_columns if name != "record"]
    return sql.SQL(
        """
        select {kept}, record::jsonb as record
        from {table}
        where record is not null {not_deleted}
        order by _dlt_load_id desc, _dlt_id
        limit %(recent)s
        """
    ).format(
        kept=sql.SQL(", ").join(kept),
        table=sql.Identifier(spec.raw_schema, spec.status_table),
        not_deleted=not_deleted,
    )


# Every path of every recent record: objects step into their keys, arrays into `[]`.
_PATHS = """
with recursive recent as ({recent_rows}),

nodes (row_id, path, value) as (
    select recent._dlt_id, array[member.key], member.value
    from recent
    cross join lateral jsonb_each(
        case when jsonb_typeof(recent.record) = 'object' then recent.record end
    ) as member
    union all
    select nodes.row_id, nodes.path || child.step, child.value
    from nodes
    cross join lateral (
        select member.key as step, member.value
        from jsonb_each(
            case when jsonb_typeof(nodes.value) = 'object' then nodes.value end
        ) as member
        union all
        select '[]' as step, element.value
        from jsonb_array_elements(
            case when jsonb_typeof(nodes.value) = 'array' then nodes.value end
        ) as element (value)
    ) as child
)

select
    path,
    count(distinct row_id) as records
from nodes
group by path
union all
select null, count(*) from recent
"""


def _landed_paths(cur, recent_rows: sql.Composed, params: dict) -> tuple[int, dict[Steps, int]]:
    """How many recent records there are, and per path how many of them carry it."""
    cur.execute(sql.SQL(_PATHS).format(recent_rows=recent_rows), params)
    records = 0
    paths: dict[Steps, int] = {}
    for path, count in cur.fetchall():
        if path is None:
            records = count
        else:
            paths[tuple(path)] = count
    return records, paths


def _unread(landed: dict[Steps, int], reads: list[StagingRead]) -> list[UnreadField]:
    """The topmost landed paths staging reads nothing in, most common first."""
    read_paths = {read.path for read in reads}

    def is_read(path: Steps) -> bool:  # a read path equals it or is a prefix of it
        return any(path[: len(read)] == read for read in read_paths)

    def leads_to_read(path: Steps) -> bool:  # it is a prefix of a read path
        return any(len(read) > len(path) and read[: len(path)] == path for read in read_paths)

    unread = [
        UnreadField(render(path), records)
        for path, records in landed.items()
        if not is_read(path)
        and not leads_to_read(path)
        and (len(path) == 1 or leads_to_read(path[:-1]))
    ]
    return sorted(unread, key=lambda item: (-item.records, item.path))


def _has_value(steps: Steps) -> sql.Composed:
    """True when the recent record has a non-null value at `steps`."""
    return sql.SQL("coalesce(jsonb_typeof(recent.record #> {}), 'null') <> 'null'").format(
        sql.Literal(list(steps))
    )


def _empty(
    cur, recent_rows: sql.Composed, params: dict, reads: list[StagingRead]
) -> list[ReadProblem]:
    """Paths staging reads where no recent record has a value (not those of the raw
    table's own columns: the extract lands a record without its key as a reject, and
    fills a cursor from whichever path the record has)."""
    first: dict[Steps, StagingRead] = {}
    for read in reads:
        if read.raw_column is None:
            first.setdefault(read.steps, read)
    if not first:
        return []
    counts = sql.SQL(", ").join(
        sql.SQL("count(*) filter (where {})").format(_has_value(steps)) for steps in first
    )
    cur.execute(
        sql.SQL("with recent as ({recent_rows}) select {counts} from recent").format(
            recent_rows=recent_rows, counts=counts
        ),
        params,
    )
    with_value = cur.fetchone()
    return [
        ReadProblem(render(read.path), EMPTY, read.model, read.column, count)
        for read, count in zip(first.values(), with_value, strict=True)
        if count == 0
    ]


def _untypable(
    cur,
    recent_rows: sql.Composed,
    params: dict,
    raw_columns: dict[str, str],
    report: DriftReport,
    model: str,
) -> list[ReadProblem]:
    """Paths with values in the recent records that the staging view types as null.

    Recent raw rows are matched to their staging rows on the load id (`load_id` in
    staging, or `_dlt_load_id`/`_dlt_id` kept under their own name) and every column
    staging keeps under its raw name and type (the natural key, the cursor).
    """
    view_columns = _columns(cur, STAGING_SCHEMA, model)
    if not view_columns:
        log.info("%s: %s.%s is not built: types not checked", report.source, STAGING_SCHEMA, model)
        return []
    pairs = [
        (name, name)
        for name, data_type in raw_columns.items()
        if name != "record" and view_columns.get(name) == data_type
    ]
    if "_dlt_load_id" not in view_columns and "load_id" in view_columns:
        pairs.append(("_dlt_load_id", "load_id"))
    if not {"_dlt_load_id", "_dlt_id"} & {raw for raw, _ in pairs}:
        log.warning(
            "%s: %s has no load id to match raw rows: types not checked", report.source, model
        )
        return []
    checked = [
        read
        for read in report.reads
        if read.model == model
        and read.column in view_columns
        and read.raw_column is None  # typed by the extract
    ]
    report.staging_checked.append(f"{STAGING_SCHEMA}.{model}")
    if not checked:
        return []
    columns = []
    for read in checked:
        has_value = _has_value(read.steps)
        typed = sql.SQL("staged.{} is not null").format(sql.Identifier(read.column))
        columns.append(
            sql.SQL(
                "count(distinct recent._dlt_id) filter (where {has_value}), "
                "count(distinct recent._dlt_id) filter (where {has_value} and {typed}), "
                "min(left(recent.record #>> {steps}, 200)) filter (where {has_value})"
            ).format(has_value=has_value, typed=typed, steps=sql.Literal(list(read.steps)))
        )
    # A row's key is the text of its matching columns (nulls included). The recent keys
    # are fetched first and given to the view as a list: PostgreSQL filters the raw rows
    # by them before it computes any staging column, instead of typing the whole table.
    staged_key = sql.SQL("row({})::text").format(
        sql.SQL(", ").join(sql.SQL("staged.{}").format(sql.Identifier(s)) for _, s in pairs)
    )
    recent_key = sql.SQL("row({})::text").format(
        sql.SQL(", ").join(sql.SQL("recent.{}").format(sql.Identifier(r)) for r, _ in pairs)
    )
    cur.execute(
        sql.SQL("with recent as ({recent_rows}) select distinct {key} from recent").format(
            recent_rows=recent_rows, key=recent_key
        ),
        params,
    )
    keys = [key for (key,) in cur.fetchall()]
    cur.execute(
        sql.SQL(
            """
            with recent as ({recent_rows}),

            staged as (
                select * from {view} as staged where {staged_key} = any(%(keys)s::text[])
            )

            select {columns}
            from recent
            inner join staged on {staged_key} = {recent_key}
            """
        ).format(
            recent_rows=recent_rows,
            columns=sql.SQL(", ").join(columns),
            view=sql.Identifier(STAGING_SCHEMA, model),
            staged_key=staged_key,
            recent_key=recent_key,
        ),
        params | {"keys": keys},
    )
    row = cur.fetchone()
    problems = []
    for index, read in enumerate(checked):
        with_value, typed, example = row[3 * index : 3 * index + 3]
        if with_value and not typed:
            problems.append(
                ReadProblem(render(read.path), UNTYPABLE, model, read.column, with_value, example)
            )
    return problems
