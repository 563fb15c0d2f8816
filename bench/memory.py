"""Peak memory of an extract: it must not grow with the size of the input.

    python -m bench.memory clinicaltrials --records 20000 --times 10
    python -m bench.memory pubmed --records 30000 --times 10
    python -m bench.memory dailymed --records 2000 --times 10 [--workers 2]
    python -m bench.memory hostile   # the decompression bombs of tests/hostile (bench.hostile)

Lands a generated release of N records, then one `--times` larger, each in a fresh
process (the full extract: read, parse, land, commit), and prints each process's peak
resident memory (RSS) and their ratio. ClinicalTrials.gov: one full-download zip.
PubMed: ONE baseline file of N articles (NLM's hold 30,000), real articles repeated with
new PMIDs, so the larger run streams a single file ten times the size of NLM's.
DailyMed: release zips of per-label zips (`bench.dailymed_generator`, 5,000 labels a part
as DailyMed's). Any process the extract starts (the Dask parse workers of
`BULK__PARSE_WORKERS`, `--workers`) is sampled every 0.2 s: its peak RSS is printed too,
the largest and the sum over them. By default (`parse_workers`: the cores less one) a
2-core machine parses in the loading process and starts none.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import OUT, fresh_database, generated_zip, machine, run_child, table

CHILD = """
import json, os, resource, sys, threading
from pathlib import Path
import psutil
from bench.common import use_database
from extract.landing import land, pipeline_for
from flows.sources import SOURCES
from medmirror.settings import ConnectionInfo
source, url, release, scratch = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
use_database(ConnectionInfo.from_url(url), scratch)
if os.environ.get("BULK__PARSE_WORKERS", "1") != "1":
    os.environ.setdefault("PREFECT_HOME", str(scratch / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    from prefect.client.orchestration import get_client
    get_client(sync_client=True)  # the temporary Prefect server the workers report to
server = {p.pid for p in psutil.Process().children(recursive=True)}
peaks, done = {}, threading.Event()
def sample():
    while not done.wait(0.2):
        for child in psutil.Process().children(recursive=True):
            if child.pid not in server:
                try:  # multiprocessing's resource tracker is no worker
                    if "resource_tracker" not in " ".join(child.cmdline()):
                        peaks[child.pid] = max(peaks.get(child.pid, 0), child.memory_info().rss)
                except psutil.Error:
                    pass
threading.Thread(target=sample, daemon=True).start()
spec = SOURCES[source]
pipeline = pipeline_for(source, ConnectionInfo.from_url(url), scratch / "dlt")
result = land(pipeline, lambda: spec.build(bulk=release, download_dir=scratch), tables=spec.tables)
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
done.set()
print(json.dumps({
    "rows": result.total_rows, "rejected": result.rejected, "peak_mib": peak_kib / 1024,
    "children": len(peaks), "child_mib": max(peaks.values(), default=0) / 2**20,
    "children_mib": sum(peaks.values()) / 2**20,
}))
"""


def pubmed_single_file(articles: int) -> Path:
    """One gzipped baseline file of `articles` generated articles (made once, reused)."""
    from bench.pubmed_generator import ArticleGenerator, write_files

    target = OUT / f"pubmed-one-file-{articles}"
    if not target.exists():
        partial = target.with_suffix(".partial")
        write_files(ArticleGenerator().articles(articles), partial, per_file=articles)
        partial.rename(target)
    return target


def dailymed_release(labels: int) -> Path:
    """A DailyMed release of `labels` generated labels (made once, reused): the zips of
    `python -m bench.generate dailymed --labels N --folder bench/out/dailymed-N`."""
    from bench.dailymed_generator import LabelGenerator, write_release

    target = OUT / f"dailymed-{labels}"
    if not target.exists():
        partial = target.with_suffix(".partial")
        write_release(LabelGenerator().labels(labels), partial)
        partial.rename(target)
    return target


@dataclass(frozen=True)
class MemoryCase:
    unit: str
    release: Callable[[int], Path]


CASES = {
    "clinicaltrials": MemoryCase(unit="studies", release=generated_zip),
    "pubmed": MemoryCase(unit="articles", release=pubmed_single_file),
    "dailymed": MemoryCase(unit="labels", release=dailymed_release),
}


def size_mb(release: Path) -> float:
    files = [release] if release.is_file() else list(release.iterdir())
    return sum(file.stat().st_size for file in files) / 1e6


def peak_memory(source: str, records: int, release: Path) -> dict:
    connection = fresh_database(f"bench_memory_{source}_{records}")
    return run_child(
        CHILD,
        source,
        connection.url(),
        str(release),
        failed=f"the {source} extract of {records:,} records failed",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", choices=[*sorted(CASES), "hostile"])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--times", type=int, default=10)
    parser.add_argument(
        "--workers", type=int, help="BULK__PARSE_WORKERS (default: the project's setting)"
    )
    args = parser.parse_args()
    if args.workers:
        os.environ["BULK__PARSE_WORKERS"] = str(args.workers)
    if args.source == "hostile":
        from bench.hostile import run

        run()
        return
    case = CASES[args.source]

    rows = []
    results = []
    for records in (args.records, args.records * args.times):
        release = case.release(records)
        measured = peak_memory(args.source, records, release)
        results.append(measured)
        rows.append(
            (
                f"{records:,} {case.unit}",
                f"{size_mb(release):,.0f} MB compressed",
                f"{measured['rows']:,}",
                f"{measured['peak_mib']:,.0f} MiB",
                f"{measured['children']}: largest {measured['child_mib']:,.0f} MiB, "
                f"sum {measured['children_mib']:,.0f} MiB",
            )
        )
    workers = any(measured["children"] for measured in results)
    if not workers:
        rows = [row[:-1] for row in rows]
    ratio = results[1]["peak_mib"] / results[0]["peak_mib"]
    print(
        f"Peak RSS of the {args.source} bulk extract, input x{args.times}: "
        f"memory x{ratio:.2f}; {machine()}"
    )
    if not workers:
        print("(parsed in the loading process: the extract started no worker process)")
    header = ("input", "release", "rows landed", "peak RSS")
    print(table(rows, (*header, "worker processes: peak RSS") if workers else header))


if __name__ == "__main__":
    main()
