"""What each staging model reads out of its raw table's `record`, from dbt's compiled SQL.

dbt compiles the staging models (macros expanded: `detoast`, `json_text_array`, ...) and
sqlglot parses each compiled statement. A read is a JSON path expression (`->`, `->>`,
`#>`, `#>>`, chained) over `record` or over a name that stands for it or for a path in it:
`document.record as parsed` after `cross join lateral (select source.record || '{}'::jsonb
as record offset 0) as document` makes `parsed` the whole record, `record -> 'a' as a`
makes `a ->> 'b'` a read of `a.b`. The column a read feeds is the alias of the select item
it is in (None in a filter or a join). A raw table's own columns filled from a record path
(`RawTable.record_paths`, declared by the extract beside the table) are reads of that
path wherever a staging model uses the column.

Only the outermost expression of a chain is a read (`record -> 'a' ->> 'b'` reads `a.b`,
not all of `a`); an expression handed whole to a function (`jsonb_array_elements(record ->
'a')`) reads all of `a`. (sqlglot takes `f(parsed -> 'a')` for a lambda, which PostgreSQL
does not have: such lambdas are read back as the JSON step they are.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from flows.dbt_runner import run_dbt
from medmirror.settings import ConnectionInfo, load_settings

ARRAY_STEP = "[]"
RECORD = "record"
PROJECT = "medmirror"

Steps = tuple[str, ...]  # the steps of a JSON path, `[]` for "any array element"

_EXTRACTIONS = (exp.JSONExtract, exp.JSONExtractScalar, exp.JSONBExtract, exp.JSONBExtractScalar)


@dataclass(frozen=True)
class StagingRead:
    """One JSON path a staging model reads out of `record`, and the column it feeds."""

    model: str
    steps: Steps  # as written in the SQL (an array index stays a number)
    column: str | None  # None when the expression has no alias (a filter, a join)
    raw_column: str | None = None  # the raw table's own column it is read through

    @property
    def path(self) -> Steps:
        """The steps as landed paths are enumerated: an array index is `[]`."""
        return tuple(ARRAY_STEP if step.isdigit() else step for step in self.steps)


@dataclass(frozen=True)
class StagingModel:
    """A staging model as dbt compiled it: its name, SQL and the raw tables it selects."""

    name: str
    sql: str
    sources: frozenset[tuple[str, str]]  # (source, raw table)


def path_steps(dotted: str) -> Steps:
    """`a.b[].c` as `("a", "b", "[]", "c")`."""
    steps: list[str] = []
    for part in dotted.split("."):
        while part.endswith(ARRAY_STEP):
            part = part[: -len(ARRAY_STEP)]
            steps.extend([part, ARRAY_STEP] if part else [ARRAY_STEP])
            part = ""
        if part:
            steps.append(part)
    return tuple(steps)


# -- dbt ------------------------------------------------------------------------------

# Staging models as compiled, per process and warehouse (they do not change while it runs).
_COMPILED: dict[tuple, dict[str, StagingModel]] = {}


def compiled_staging(connection: ConnectionInfo) -> dict[str, StagingModel]:
    """Every staging model, compiled by dbt (without querying the warehouse)."""
    key = (load_settings().dbt_target_dir, connection.host, connection.port, connection.database)
    if key not in _COMPILED:
        result = run_dbt(
            [
                "compile",
                "--select",
                "staging",
                # `stg_<source>__freshness` reads the main raw table's cursor column for
                # `marts.source_freshness`, not the publisher's record.
                "--exclude",
                "tag:freshness",
                "--indirect-selection",
                "empty",  # the models, not their tests
                "--no-introspect",
                "--no-populate-cache",
                "--quiet",
            ],
            connection,
        )
        models = {}
        for node_result in result.result.results:
            node = node_result.node
            if node.resource_type != "model" or node.fqn[1] != "staging":
                continue
            sources = frozenset(
                tuple(parent.split(".")[2:4])
                for parent in node.depends_on.nodes
                if parent.startswith(f"source.{PROJECT}.")
            )
            models[node.name] = StagingModel(node.name, node.compiled_code, sources)
        _COMPILED[key] = models
    return _COMPILED[key]


# -- the reads of one model -----------------------------------------------------------


def staging_reads(
    compiled_sql: str, model: str, record_paths: Iterable[tuple[str, str]] = ()
) -> list[StagingRead]:
    """Every `record` path a compiled staging model reads, with the column it feeds, once.

    `record_paths`: the raw table's own columns filled from a record path, as (column,
    dotted path) pairs: a use of the column reads that path."""
    tree = _lambdas_as_json(sqlglot.parse_one(compiled_sql, read="postgres"))
    roots = _record_names(tree)
    reads = []
    for node in tree.find_all(*_EXTRACTIONS):
        if isinstance(node.parent, _EXTRACTIONS) and node.parent.this is node:
            continue  # a step of a longer chain: the chain's end is the read
        path = _path(node, roots)
        if path:
            reads.append(StagingRead(model, path, _column_of(node)))
    for column, dotted in record_paths:
        used = [node for node in tree.find_all(exp.Column) if node.name == column]
        if used:
            columns = sorted({_column_of(node) or "" for node in used})
            fed = next((name for name in columns if name == column), columns[0] or None)
            reads.append(StagingRead(model, path_steps(dotted), fed, raw_column=column))
    return list(dict.fromkeys(reads))


def _lambdas_as_json(tree: exp.Expression) -> exp.Expression:
    """sqlglot reads a function argument `parsed -> 'sites'` as a lambda (`x -> body`, a
    syntax other engines have); PostgreSQL has no lambdas: it is the JSON step `->`. The
    body's leftmost literal is the first key (`parsed -> 'a' ->> 'b'`: `'a' ->> 'b'`)."""
    for function in list(tree.find_all(exp.Lambda)):
        (parameter, *others) = function.expressions or [None]
        if others or not isinstance(parameter, exp.Identifier):
            continue
        leaf = function.this
        while not isinstance(leaf, exp.Literal) and isinstance(leaf.this, exp.Expression):
            leaf = leaf.this
        if not isinstance(leaf, exp.Literal):
            continue
        step = (
            exp.JSONPathKey(this=leaf.this)
            if leaf.is_string
            else exp.JSONPathSubscript(this=int(leaf.this))
        )
        first = exp.JSONExtract(
            this=exp.Column(this=parameter.copy()),
            expression=exp.JSONPath(expressions=[exp.JSONPathRoot(), step]),
        )
        body = first if leaf is function.this else function.this
        if leaf is not function.this:
            leaf.replace(first)
        function.replace(body)
    return tree


def _record_names(tree: exp.Expression) -> dict[str, Steps]:
    """The names that stand for the record (`()`) or for a path in it, to a fixed point:
    `record` itself and every alias of an expression over one of them."""
    roots: dict[str, Steps] = {RECORD: ()}
    changed = True
    while changed:
        changed = False
        for alias in tree.find_all(exp.Alias):
            if alias.alias in roots:
                continue
            path = _path(alias.this, roots)
            if path is not None:
                roots[alias.alias] = path
                changed = True
    return roots


def _path(node: exp.Expression, roots: dict[str, Steps]) -> Steps | None:
    """The record path `node` stands for, or None when it is not one."""
    if isinstance(node, exp.Column):
        return roots.get(node.name)
    if isinstance(node, _EXTRACTIONS):
        base = _path(node.this, roots)
        if base is None:
            return None
        steps = _steps(node.expression)
        # A key computed when the query runs: all of the base may be read.
        return base if steps is None else base + steps
    if isinstance(node, exp.Paren | exp.Cast):
        return _path(node.this, roots)
    if isinstance(node, exp.DPipe):  # `record || '{}'::jsonb` (detoast) is the record
        for side, other in ((node.this, node.expression), (node.expression, node.this)):
            base = _path(side, roots)
            if base is not None and not list(other.find_all(exp.Column)):
                return base
    return None


def _steps(path: exp.Expression) -> Steps | None:
    """The steps one `->`/`->>` (a JSON path) or `#>`/`#>>` (a `'{a,b}'` literal) adds."""
    if isinstance(path, exp.JSONPath):
        steps = []
        for part in path.expressions:
            if isinstance(part, exp.JSONPathRoot):
                continue
            if isinstance(part, exp.JSONPathKey | exp.JSONPathSubscript):
                steps.append(str(part.this))
            else:
                return None
        return tuple(steps)
    if isinstance(path, exp.Literal) and path.is_string:
        text = path.this.strip()
        if text.startswith("{") and text.endswith("}"):
            return tuple(step.strip().strip('"') for step in text[1:-1].split(",") if step.strip())
    return None


def _column_of(node: exp.Expression) -> str | None:
    """The column a read feeds: the alias of the select item it is in, the column itself
    when it is a select item, None in a filter or a join."""
    if isinstance(node, exp.Column) and isinstance(node.parent, exp.Select):
        if node in node.parent.expressions:
            return node.name
    alias = node.find_ancestor(exp.Alias)
    return alias.alias if alias is not None else None
