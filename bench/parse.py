"""CPU per article of the PubMed parse alone (no database): where a bulk load's Python time
goes, and the parser of this checkout against the parser of another revision.

    python -m bench.parse --articles 30000 --compare 1797eb4 --repeat 3 --rss
    python -m bench.parse --articles 30000 --profile

One generated baseline file of `--articles` articles (`bench/pubmed_generator.py`, made
once in `bench/out/pubmed-N/`, the file `bench.ingest pubmed --records N` also uses) is
read in memory, then each way runs `--repeat` times, the ways taking turns; the figure is
the least CPU time (`time.process_time`) of its runs, so that other work on a shared
machine counts as little as possible:

- gunzip: read the decompressed stream to its end;
- iterparse: gunzip and `iter_items` (lxml builds each top-level item; nothing read);
- parse: `iter_items` and `article_row` for each article (record built, JSON written),
  what the bulk reader does per article before Arrow and the database;
- parse at REV (`--compare`): the same with `extract/pubmed/helpers.py` of git revision
  REV, after checking that both give the same rows byte for byte.

`--rss` runs each parse once more in a fresh Python process that reads the files from
disk as the bulk reader does (`gzip.open`, nothing held in memory) and gives its peak
resident memory (`VmHWM`, Linux), next to that of a process that only imports the parser.

`--profile` runs the parse of this checkout once more under cProfile and prints the
functions with the most time of their own.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import io
import pstats
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

from bench.common import machine, table
from bench.ingest import pubmed_release
from medmirror.settings import PROJECT_DIR

HELPERS = "extract/pubmed/helpers.py"


RECORD_PART = "# -- one article into a landing row"
NEXT_PART = "# -- which bulk files have landed"


def helpers_at(revision: str) -> types.ModuleType:
    """`extract.pubmed.helpers` of this checkout with the record building of git `revision`
    (the part of its file from "one article into a landing row" to "which bulk files have
    landed": `article_row`, `deletion_rows`, `article_record` and what they call) executed
    over it, in a module of its own. Only that part is taken, so that an older revision
    whose imports have since changed can still be compared (1797eb4 imported
    `extract.landing.landing_schema`, gone since)."""
    source = subprocess.run(
        ["git", "show", f"{revision}:{HELPERS}"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    start, end = source.index(RECORD_PART), source.index(NEXT_PART)
    module = types.ModuleType(f"pubmed_helpers_at_{revision}")
    module.__file__ = f"{revision}:{HELPERS}"
    sys.modules[module.__name__] = module  # dataclasses look their module up
    current = (PROJECT_DIR / HELPERS).read_text()
    exec(compile(current, str(PROJECT_DIR / HELPERS), "exec"), module.__dict__)  # noqa: S102
    # Blank lines keep the revision's line numbers in tracebacks and profiles.
    part = "\n" * source.count("\n", 0, start) + source[start:end]
    exec(compile(part, module.__file__, "exec"), module.__dict__)  # noqa: S102
    return module


def stream(data: bytes) -> gzip.GzipFile:
    return gzip.GzipFile(fileobj=io.BytesIO(data))


def gunzip(data: bytes, helpers: types.ModuleType) -> int:
    reader = stream(data)
    while reader.read(1 << 20):
        pass
    return 0


def iterparse(data: bytes, helpers: types.ModuleType) -> int:
    return sum(1 for _ in helpers.iter_items(stream(data), where="bench"))


def parse(data: bytes, helpers: types.ModuleType) -> int:
    articles = 0
    for item in helpers.iter_items(stream(data), where="bench"):
        if item.tag == helpers.ARTICLE:
            helpers.article_row(item, source_uri="bench")
            articles += 1
    return articles


def rows(data: bytes, helpers: types.ModuleType) -> list[str]:
    return [
        helpers.article_row(item, source_uri="bench")["record"]
        for item in helpers.iter_items(stream(data), where="bench")
        if item.tag == helpers.ARTICLE
    ]


def peak_rss_mib(files: list[Path], revision: str | None) -> float:
    """Peak resident memory (MiB) of a fresh process that parses `files` from disk with the
    parser of this checkout or of `revision` (`revision` "-": import the parser only)."""
    command = [sys.executable, "-m", "bench.parse", "--child", revision or "", *map(str, files)]
    answer = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    return int(answer.stdout.split()[-1]) / 1024


def child(revision: str, files: list[str]) -> None:
    """`--child`: parse `files` from disk, then print this process's peak RSS in KiB: its
    memory's high-water mark since it started (`VmHWM`; `ru_maxrss` would count the memory
    of the parent it was forked from, which holds the files)."""
    from extract.pubmed import helpers

    if revision not in ("", "-"):
        helpers = helpers_at(revision)
    for path in files if revision != "-" else ():
        with gzip.open(path) as reader:
            for item in helpers.iter_items(reader, where="bench"):
                if item.tag == helpers.ARTICLE:
                    helpers.article_row(item, source_uri="bench")
    status = Path("/proc/self/status").read_text()
    print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def cpu_seconds(way: Callable[[bytes, types.ModuleType], int], *args) -> float:
    start = time.process_time()
    way(*args)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=30_000)
    parser.add_argument("--compare", metavar="REV", help="also time the parser of this revision")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rss", action="store_true", help="also peak RSS of each parse")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", metavar="REV", help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.files)
        return

    from extract.pubmed import helpers

    files = sorted(Path(pubmed_release(args.articles)).glob("*.xml.gz"))
    data = [path.read_bytes() for path in files]
    articles = sum(parse(part, helpers) for part in data)
    ways: list[tuple[str, Callable, types.ModuleType]] = [
        ("gunzip", gunzip, helpers),
        ("gunzip + iterparse (items only)", iterparse, helpers),
        ("gunzip + iterparse + record + JSON (this checkout)", parse, helpers),
    ]
    if args.compare:
        reference = helpers_at(args.compare)
        for part in data:
            if rows(part, helpers) != rows(part, reference):
                raise SystemExit(f"the rows differ from those of {args.compare}")
        print(f"rows of {articles:,} articles byte-identical to those of {args.compare}")
        ways.append((f"gunzip + iterparse + record + JSON ({args.compare})", parse, reference))

    runs: dict[str, list[float]] = {name: [] for name, _, _ in ways}
    for _ in range(args.repeat):
        for name, way, module in ways:
            runs[name].append(sum(cpu_seconds(way, part, module) for part in data))

    best = {name: min(seconds) for name, seconds in runs.items()}
    median = {name: statistics.median(seconds) for name, seconds in runs.items()}
    parse_now = ways[2][0]
    lines = []
    for name, _, _ in ways:
        seconds = best[name]
        lines.append(
            (
                name,
                f"{seconds:.2f}",
                f"{median[name]:.2f}",
                f"{seconds / articles * 1e6:,.0f}",
                f"{seconds / best[parse_now]:.2f}",
                f"{median[name] / median[parse_now]:.2f}",
            )
        )
    megabytes = sum(len(gzip.decompress(part)) for part in data) / 1e6
    print(
        f"PubMed parse, {articles:,} articles in {len(files)} file(s), {megabytes:,.0f} MB of XML; "
        f"least and median CPU of {args.repeat} runs; {machine()}"
    )
    header = ("way", "CPU s (least)", "CPU s (median)", "µs/article (least)")
    header += ("x parse (least)", "x parse (median)")
    print(table(lines, header))

    if args.rss:
        rss = [("import the parser only", peak_rss_mib(files, "-"))]
        rss.append(("parse (this checkout)", peak_rss_mib(files, None)))
        if args.compare:
            rss.append((f"parse ({args.compare})", peak_rss_mib(files, args.compare)))
        print("\nPeak RSS of a fresh process reading the files from disk:")
        print(table([(name, f"{mib:,.0f}") for name, mib in rss], ("process", "peak RSS MiB")))

    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for part in data:
            parse(part, helpers)
        profile.disable()
        print("\ncProfile of the parse (this checkout), by own time:")
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
