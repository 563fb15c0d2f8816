"""What every benchmark needs: a fresh database, generated inputs, the machine's description."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import psutil

from medmirror.settings import PROJECT_DIR, ConnectionInfo, Settings, load_settings
from medmirror.warehouse import EmbeddedWarehouse

OUT = PROJECT_DIR / "bench" / "out"
# another port when two benchmark warehouses run side by side (`MEDMIRROR_BENCH_PORT`)
BENCH_PORT = int(os.environ.get("MEDMIRROR_BENCH_PORT") or 55433)


def warehouse_connection() -> ConnectionInfo:
    """`MEDMIRROR_DATABASE_URL` if set, else a benchmark-only embedded PostgreSQL."""
    settings = load_settings()
    if settings.database_url:
        return ConnectionInfo.from_url(settings.database_url)
    server = EmbeddedWarehouse(
        Settings(data_dir=OUT / "warehouse", db_port=BENCH_PORT, database_url=None)
    )
    server.ensure_started()
    return server.connection()


def fresh_database(name: str) -> ConnectionInfo:
    """An empty database `name` (dropped first if it exists)."""
    admin = warehouse_connection()
    conn = admin.connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}"')
    conn.close()
    return replace(admin, database=name)


def use_database(connection: ConnectionInfo, scratch: Path) -> None:
    """Point medmirror (dlt, dbt, flows) at `connection`, with its files under `scratch`."""
    os.environ["MEDMIRROR_DATABASE_URL"] = connection.url()
    os.environ["MEDMIRROR_DATA_DIR"] = str(scratch)


def generated_zip(studies: int, first: int = 0) -> Path:
    """A full-download zip of `studies` generated studies (made once, then reused)."""
    from bench.generate import StudyGenerator, write_zip

    target = OUT / f"ctgov-{studies}-from-{first}.zip"
    if not target.exists():
        partial = target.with_suffix(".partial")
        write_zip(StudyGenerator().studies(studies, first), partial)
        partial.rename(target)
    return target


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.system()}"


@contextmanager
def timed() -> Iterator[dict[str, float]]:
    """`with timed() as t: ...` then `t["seconds"]`."""
    result: dict[str, float] = {}
    start = time.perf_counter()
    yield result
    result["seconds"] = time.perf_counter() - start


def table(rows: list[tuple], header: tuple[str, ...]) -> str:
    """A Markdown table (pasted into BENCHMARKS.md)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def run_child(script: str, *args: str, failed: str) -> dict:
    """Run `script` (`python -c`) in a fresh Python process with `args` and a scratch
    folder as its last argument; its last stdout line is its JSON result. A failure
    exits with `failed` and the child's stderr."""
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            [sys.executable, "-c", script, *args, scratch], capture_output=True, text=True
        )
    if done.returncode:
        raise SystemExit(f"{failed}:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])
