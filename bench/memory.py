"""Peak memory of an extract: it must not grow with the size of the input.

    python -m bench.memory clinicaltrials --records 20000 --times 10
    python -m bench.memory pubmed --records 30000 --times 10
    python -m bench.memory hostile   # the decompression bombs of tests/hostile (bench.hostile)

Lands a generated release of N records, then one `--times` larger, each in a fresh
process (the full extract: read, parse, land, commit), and prints each process's peak
resident memory (RSS) and their ratio. ClinicalTrials.gov: one full-download zip.
PubMed: ONE baseline file of N articles (NLM's hold 30,000), real articles repeated with
new PMIDs, so the larger run streams a single file ten times the size of NLM's.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import OUT, fresh_database, generated_zip, machine, run_child, table

CHILD = """
import json, resource, sys
from pathlib import Path
from bench.common import use_database
from extract.landing import land, pipeline_for
from flows.sources import SOURCES
from medmirror.settings import ConnectionInfo
source, url, release, scratch = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
use_database(ConnectionInfo.from_url(url), scratch)
spec = SOURCES[source]
pipeline = pipeline_for(source, ConnectionInfo.from_url(url), scratch / "dlt")
result = land(pipeline, lambda: spec.build(bulk=release, download_dir=scratch), tables=spec.tables)
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(
    {"rows": result.total_rows, "rejected": result.rejected, "peak_mib": peak_kib / 1024}
))
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


@dataclass(frozen=True)
class MemoryCase:
    unit: str
    release: Callable[[int], Path]


CASES = {
    "clinicaltrials": MemoryCase(unit="studies", release=generated_zip),
    "pubmed": MemoryCase(unit="articles", release=pubmed_single_file),
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
    args = parser.parse_args()
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
            )
        )
    ratio = results[1]["peak_mib"] / results[0]["peak_mib"]
    print(
        f"Peak RSS of the {args.source} bulk extract, input x{args.times}: "
        f"memory x{ratio:.2f}; {machine()}"
    )
    print(table(rows, ("input", "release", "rows landed", "peak RSS")))


if __name__ == "__main__":
    main()
