"""DuckDB over a Parquet snapshot: `medmirror sql [DIR] [-c QUERY]`.

One view per mart over the files its manifest lists (`select * from drugs`), in an
in-memory DuckDB database: the snapshot's files are only read. The checksums in the
manifest can be verified first (`verify`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from serving.export import ExportError, read_manifest


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def open_snapshot(directory: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a view per mart of the snapshot."""
    directory = Path(directory).resolve()
    manifest = read_manifest(directory)
    connection = duckdb.connect(":memory:")
    for name, mart in manifest["marts"].items():
        files = [str(directory / item["path"]) for item in mart["files"]]
        listed = ", ".join(_literal(path) for path in files)
        # A view names the files, not a glob: exactly what the manifest lists.
        statement = "create view {} as select * from read_parquet([{}], union_by_name = false)"
        connection.execute(statement.format(_identifier(name), listed))
    return connection


def run(connection: duckdb.DuckDBPyConnection, query: str) -> Result | None:
    """Run one statement; its rows (None for a statement without a result)."""
    relation = connection.sql(query)
    if relation is None:
        return None
    # DuckDB 2.0: fetch the whole result (an undrained relation blocks the next query).
    return Result(list(relation.columns), relation.fetchall())


def verify(directory: Path) -> list[str]:
    """The files whose size or SHA-256 differs from the manifest (empty: all match)."""
    directory = Path(directory)
    problems = []
    for mart in read_manifest(directory)["marts"].values():
        for item in mart["files"]:
            path = directory / item["path"]
            if not path.exists():
                problems.append(f"{item['path']}: missing")
                continue
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            if digest.hexdigest() != item["sha256"]:
                problems.append(f"{item['path']}: checksum differs from the manifest")
    return problems


def statements(lines: Iterator[str]) -> Iterator[str]:
    """SQL statements typed at a prompt: lines gathered until one ends with `;`."""
    held: list[str] = []
    for line in lines:
        held.append(line)
        if line.rstrip().endswith(";"):
            text = "\n".join(held).strip()
            held = []
            if text.rstrip(";").strip():
                yield text
    rest = "\n".join(held).strip()
    if rest:
        yield rest


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


__all__ = ["ExportError", "Result", "open_snapshot", "run", "statements", "verify"]
