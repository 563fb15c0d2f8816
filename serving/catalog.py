"""What the marts are, from dbt's manifest: descriptions, columns, primary keys, the
sources each mart comes from (its lineage), and which marts have a search function.

The manifest is dbt's own (`manifest.json` in dbt's target folder, `dbt_project/target`
unless `MEDMIRROR_DBT_TARGET_DIR` names another); when it is missing or older than the
project's files, `dbt parse` writes it again. It is read once per process.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from medmirror.settings import DBT_PROJECT_DIR, ConnectionInfo, load_settings

log = logging.getLogger(__name__)

MARTS_SCHEMA = "marts"
# Project files a parse reads: when one is newer than the manifest, parse again.
_PARSED_FROM = ("models", "macros", "tests", "dbt_project.yml")


@dataclass(frozen=True)
class Column:
    name: str
    description: str


@dataclass(frozen=True)
class Mart:
    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    sources: tuple[str, ...]  # the publishers' sources it is built from (dbt lineage)
    folder: str  # its domain folder under models/marts (drugs, trials, analysis, ...)
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    def column(self, name: str) -> Column | None:
        return next((column for column in self.columns if column.name == name), None)

    @property
    def described(self) -> dict[str, str]:
        return {column.name: column.description for column in self.columns}


def manifest_path(connection: ConnectionInfo | None = None) -> Path:
    """dbt's manifest, parsed again first when the project changed since it was written."""
    manifest = load_settings().dbt_target_dir / "manifest.json"
    if not _is_current(manifest):
        from flows.dbt_runner import run_dbt

        log.info("dbt manifest missing or older than the project: running dbt parse")
        # dbt logs to stdout, which an MCP server on stdio keeps for its protocol.
        with contextlib.redirect_stdout(sys.stderr):
            run_dbt(
                ["parse", "--quiet"],
                connection or ConnectionInfo("127.0.0.1", 5432, "", "", "medmirror"),
            )
    return manifest


def _is_current(manifest: Path) -> bool:
    if not manifest.exists():
        return False
    written = manifest.stat().st_mtime
    for name in _PARSED_FROM:
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else path.rglob("*")
        if any(item.is_file() and item.stat().st_mtime > written for item in files):
            return False
    return True


@cache
def marts() -> dict[str, Mart]:
    """Every mart dbt builds in schema `marts`, by name (sorted)."""
    return read_marts(json.loads(manifest_path().read_text()))


def read_marts(manifest: dict) -> dict[str, Mart]:
    nodes = manifest["nodes"]
    sources = manifest["sources"]
    lineage: dict[str, frozenset[str]] = {}

    def sources_of(unique_id: str) -> frozenset[str]:
        if unique_id in sources:
            return frozenset([sources[unique_id]["source_name"]])
        if unique_id not in lineage:
            lineage[unique_id] = frozenset()  # a cycle cannot happen in dbt; guard anyway
            parents = nodes.get(unique_id, {}).get("depends_on", {}).get("nodes", [])
            lineage[unique_id] = frozenset().union(*(sources_of(parent) for parent in parents))
        return lineage[unique_id]

    keys = _primary_keys(nodes)
    found: dict[str, Mart] = {}
    for unique_id, node in nodes.items():
        if node["resource_type"] != "model" or node["schema"] != MARTS_SCHEMA:
            continue
        if not node["config"].get("enabled", True):
            continue
        parts = Path(node["original_file_path"]).parts
        folder = parts[parts.index("marts") + 1] if "marts" in parts[:-1] else ""
        found[node["alias"]] = Mart(
            name=node["alias"],
            description=" ".join(node["description"].split()),
            columns=tuple(
                Column(name, " ".join(column["description"].split()))
                for name, column in node["columns"].items()
            ),
            primary_key=keys.get(unique_id, ()),
            sources=tuple(sorted(sources_of(unique_id))),
            folder=folder,
            meta=node["config"].get("meta") or {},
        )
    return dict(sorted(found.items()))


def _primary_keys(nodes: dict) -> dict[str, tuple[str, ...]]:
    """Per model, its primary key as its tests declare it: the columns of its
    `primary_key` test, else the first documented column tested `unique` and not null
    (`not_null`, or among a `not_null_columns` test's), else the columns of a
    `unique_combination` test."""
    declared: dict[str, tuple[str, ...]] = {}
    unique: dict[str, set[str]] = {}
    not_null: dict[str, set[str]] = {}
    combinations: dict[str, tuple[str, ...]] = {}
    for node in nodes.values():
        if node["resource_type"] != "test" or not node.get("test_metadata"):
            continue
        model = node.get("attached_node")
        test = node["test_metadata"]
        kwargs = test.get("kwargs", {})
        if test["name"] == "primary_key" and kwargs.get("columns"):
            declared.setdefault(model, tuple(kwargs["columns"]))
        elif test["name"] == "unique" and kwargs.get("column_name"):
            unique.setdefault(model, set()).add(kwargs["column_name"])
        elif test["name"] == "not_null" and kwargs.get("column_name"):
            not_null.setdefault(model, set()).add(kwargs["column_name"])
        elif test["name"] == "not_null_columns" and kwargs.get("columns"):
            not_null.setdefault(model, set()).update(kwargs["columns"])
        elif test["name"] == "unique_combination" and kwargs.get("columns"):
            combinations.setdefault(model, tuple(kwargs["columns"]))
    keys: dict[str, tuple[str, ...]] = {}
    for unique_id, node in nodes.items():
        if node["resource_type"] != "model":
            continue
        tested = unique.get(unique_id, set())
        ordered = [name for name in node["columns"] if name in tested]
        keyed = [name for name in ordered if name in not_null.get(unique_id, set())]
        if unique_id in declared:
            keys[unique_id] = declared[unique_id]
        elif keyed or ordered:
            keys[unique_id] = ((keyed or ordered)[0],)
        elif unique_id in combinations:
            keys[unique_id] = combinations[unique_id]
    return keys


def sources_of(mart_names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The sources a set of marts comes from, sorted."""
    known = marts()
    return tuple(sorted({source for name in mart_names for source in known[name].sources}))
