"""Bulk landing with 1 and more parse workers (`extract.parallel`): wall time and memory.

    python -m bench.workers --articles 60000 --per-file 10000 --workers 1 2
    python -m bench.workers --articles 60000 --per-file 10000 --workers 1 2 --parse-only

One release of generated PubMed baseline files (`bench/pubmed_generator.py`, `--per-file`
articles each, made once in `bench/out/`) is landed into a fresh database once per
worker count, each in a fresh Python process, as `medmirror refresh --bulk` lands it
(`BULK__PARSE_WORKERS`; 1 is the serial path, no cluster). The figures: wall time of
`land()` (with more than one worker, the local Dask cluster's start included: it is part
of every such run), articles per second, the speed-up over one worker, the loading
process's peak RSS and, sampled every 0.2 s, the largest RSS of a Dask worker process
and the sum over them. A Prefect API the workers report to is started before the clock.

`--parse-only` times the parse alone (every file into its Arrow file, no database), in
the loading process and on the workers of an already started cluster: how far parsing
itself spreads, whatever the loader and PostgreSQL leave of the machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.common import OUT, fresh_database, machine, run_child, table

CHILD = r"""
import json, os, resource, sys, tempfile, threading, time
from pathlib import Path
import psutil

workers, url, release, scratch = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
os.environ.update(
    MEDMIRROR_DATABASE_URL=url,
    MEDMIRROR_DATA_DIR=scratch,
    BULK__PARSE_WORKERS=str(workers),
    BULK__PARALLEL_MIN_BYTES="0",
    PREFECT_HOME=os.path.join(scratch, "prefect"),
    PREFECT_SERVER_ANALYTICS_ENABLED="false",
    PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW="ignore",
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="90",
)
from prefect.client.orchestration import get_client
from extract.landing import land, pipeline_for
from flows.sources import spec_of
from medmirror.settings import ConnectionInfo

if workers > 1:
    get_client(sync_client=True)  # the temporary Prefect server, started before the clock
server = {p.pid for p in psutil.Process().children(recursive=True)}
peaks, done = {}, threading.Event()

def sample():
    while not done.wait(0.2):
        for child in psutil.Process().children(recursive=True):
            if child.pid in server:
                continue
            try:
                peaks[child.pid] = max(peaks.get(child.pid, 0), child.memory_info().rss)
            except psutil.Error:
                pass

threading.Thread(target=sample, daemon=True).start()
spec = spec_of("pubmed")
pipeline = pipeline_for("pubmed", ConnectionInfo.from_url(url), Path(scratch) / "dlt")
started = time.perf_counter()
result = land(
    pipeline, lambda: spec.make_source(bulk_location=release), tables=spec.tables, bulk=True
)
seconds = time.perf_counter() - started
done.set()
workers_rss = sorted(peaks.values(), reverse=True)[:workers] if workers > 1 else []
print(json.dumps({
    "seconds": seconds,
    "rows": result.total_rows,
    "windows": result.windows,
    "loader_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_mib": max(workers_rss, default=0) / 2**20,
    "workers_mib": sum(workers_rss) / 2**20,
}))
"""


PARSE_ONLY = r"""
import json, os, sys, tempfile, time
from pathlib import Path

workers, release, scratch = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
os.environ.update(
    PREFECT_HOME=str(scratch / "prefect"),
    PREFECT_SERVER_ANALYTICS_ENABLED="false",
    PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW="ignore",
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="90",
)
from prefect.client.orchestration import get_client
from extract.bulk import BulkMember
from extract.parallel import ParsePool, ParseSettings
from extract.pubmed import parse_file

files = [BulkMember(uri=str(path), path=path) for path in sorted(release.glob("*.xml.gz"))]
if workers == 1:
    started = time.perf_counter()
    rows = sum(parse_file(member, scratch / f"{n}.arrows").rows for n, member in enumerate(files))
    seconds = time.perf_counter() - started
else:
    get_client(sync_client=True)
    pool = ParsePool("pubmed", ParseSettings(workers=workers, min_bytes=0))
    pool._start()  # the cluster's start is not part of the figure
    started = time.perf_counter()
    rows = 0
    for n in range(len(files)):
        pool.ahead(files[n:], parse_file, scratch)
        rows += pool.parsed(files[n]).rows
        pool.done(files[n])
    seconds = time.perf_counter() - started
    pool.close()
print(json.dumps({"seconds": seconds, "rows": rows}))
"""


def release(articles: int, per_file: int) -> Path:
    """`articles` generated articles in baseline files of `per_file` (made once, reused)."""
    from bench.pubmed_generator import ArticleGenerator, write_files

    target = OUT / f"pubmed-{articles}-by-{per_file}"
    if not target.exists():
        partial = target.with_suffix(".partial")
        write_files(ArticleGenerator().articles(articles), partial, per_file=per_file)
        partial.rename(target)
    return target


def land_with(workers: int, folder: Path) -> dict:
    connection = fresh_database(f"bench_workers_{workers}")
    return run_child(
        CHILD,
        str(workers),
        connection.url(),
        str(folder),
        failed=f"landing with {workers} parse workers failed",
    )


def parse_with(workers: int, folder: Path) -> dict:
    return run_child(
        PARSE_ONLY, str(workers), str(folder), failed=f"parsing with {workers} parse workers failed"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=60_000)
    parser.add_argument("--per-file", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--parse-only",
        action="store_true",
        help="time only the parse of every file into its Arrow file (no database; with "
        "workers, the cluster already started), in file order as the loader reads them",
    )
    args = parser.parse_args()
    if args.parse_only:
        folder = release(args.articles, args.per_file)
        runs = {workers: parse_with(workers, folder) for workers in args.workers}
        base = runs[args.workers[0]]["seconds"]
        print(f"PubMed parse only, {args.articles:,} articles; {machine()}")
        print(
            table(
                [
                    (
                        workers,
                        f"{run['seconds']:.1f}",
                        f"{run['rows'] / run['seconds']:,.0f}",
                        f"{base / run['seconds']:.2f}",
                    )
                    for workers, run in runs.items()
                ],
                ("parse workers", "seconds", "articles/s", f"x {args.workers[0]} worker"),
            )
        )
        return

    folder = release(args.articles, args.per_file)
    files = len(list(folder.glob("*.xml.gz")))
    results = {workers: land_with(workers, folder) for workers in args.workers}
    base = results[args.workers[0]]["seconds"]
    rows = [
        (
            workers,
            f"{run['seconds']:.1f}",
            f"{run['rows'] / run['seconds']:,.0f}",
            f"{base / run['seconds']:.2f}",
            f"{run['loader_mib']:,.0f}",
            f"{run['worker_mib']:,.0f}" if workers > 1 else "-",
            f"{run['workers_mib']:,.0f}" if workers > 1 else "-",
        )
        for workers, run in results.items()
    ]
    print(f"PubMed bulk landing, {args.articles:,} articles in {files} files; {machine()}")
    print(
        table(
            rows,
            (
                "parse workers",
                "seconds",
                "articles/s",
                f"x {args.workers[0]} worker",
                "loader peak RSS MiB",
                "largest worker MiB",
                "workers sum MiB",
            ),
        )
    )


if __name__ == "__main__":
    main()
