"""From bulk files to built marts, then a 1% delta: what a first load and a daily refresh cost.

    python -m bench.pipeline --studies 100000
    python -m bench.pipeline --release bench/out/ctgov-1m --studies 1000000 --database bench_1m
    python -m bench.pipeline --source pubmed --release bench/out/pubmed-1m --studies 1000000 \
        --database bench_pubmed_1m
    python -m bench.pipeline --source dailymed --release bench/out/dailymed-150k \
        --studies 150000 --database bench_dailymed
    python -m bench.pipeline --source faers --release bench/out/faers-10q --studies 4000000 \
        --database bench_faers
    python -m bench.pipeline --source openfda --release bench/out/openfda-ndc-130k \
        --studies 130000 --database bench_openfda

1. Lands a generated release (N ClinicalTrials.gov studies or PubMed articles) through the
   bulk path.
2. `dbt build` of everything the source feeds, from scratch (full).
3. Lands a 1% delta (half later versions of existing records, half new records; for
   FAERS the next quarter; none for the openFDA NDC directory) and runs the same
   `dbt build` again: incremental models rebuild only what changed.
Prints each step's time, records per second (and per core) from files to built marts, and
the incremental build's cost as a share of the full one. The database is kept for
`bench.search`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

from bench.common import (
    OUT,
    fresh_database,
    generated_zip,
    machine,
    table,
    timed,
    use_database,
    warehouse_connection,
)
from bench.generate import StudyGenerator, write_zip
from medmirror.settings import ConnectionInfo


def land(source: str, connection: ConnectionInfo, location: Path, scratch: Path) -> float:
    from extract.landing import land as land_windows
    from extract.landing import pipeline_for
    from flows.sources import spec_of

    spec = spec_of(source)
    pipeline = pipeline_for(source, connection, scratch / "dlt")
    with timed() as took:
        land_windows(
            pipeline,
            lambda: spec.make_source(bulk_location=str(location)),
            tables=spec.tables,
        )
    return took["seconds"]


def build(
    source: str, connection: ConnectionInfo, *, full: bool = False, keep: str | None = None
) -> float:
    """`dbt build` of what the source feeds, as `medmirror refresh` runs it (every raw
    table exists from `medmirror init`, so a partial release builds like any other).
    With `keep`, each node's seconds go to `bench/out/<keep>-timings.json` (medmirror's
    dbt runs write no run_results.json)."""
    from flows.dbt_runner import build_sources

    with timed() as took:
        result = build_sources(connection, [source], full=full)
    if keep:
        timings = {r.node.unique_id: r.execution_time for r in result.result.results}
        (OUT / f"{keep}-timings.json").write_text(json.dumps(timings, indent=1))
    return took["seconds"]


def slowest_nodes(keep: str, top: int = 8) -> list[tuple[str, float]]:
    """The nodes of a kept build that took longest, slowest first."""
    path = OUT / f"{keep}-timings.json"
    if not path.exists():
        return []
    timings = json.loads(path.read_text())
    return sorted(timings.items(), key=lambda node: -node[1])[:top]


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def delta_zip(studies: int, seed: int, share: float = 0.01) -> Path:
    """Later versions of `share / 2` of the studies and as many new ones."""
    half = max(1, int(studies * share / 2))
    target = OUT / f"ctgov-delta-{studies}-seed-{seed}.zip"
    if not target.exists():
        generator = StudyGenerator(seed=seed)
        step = max(1, studies // half)
        changed = (generator.study(n, updated=date(2026, 11, 21)) for n in range(0, studies, step))
        new = (generator.study(studies + n, updated=date(2026, 11, 21)) for n in range(half))

        def both():
            yield from list(changed)[:half]
            yield from new

        write_zip(both(), target)
    return target


def delta_update_file(articles: int, seed: int, share: float = 0.01) -> Path:
    """A PubMed update file: later revisions of `share / 2` of the articles and as many
    new ones, numbered after the release's files (so it lands after them)."""
    from bench.pubmed_generator import ArticleGenerator, write_files

    half = max(1, int(articles * share / 2))
    target = OUT / f"pubmed-delta-{articles}-seed-{seed}"
    if not target.exists():
        generator = ArticleGenerator(seed=seed)
        step = max(1, articles // half)
        revised = date(2026, 11, 21)
        changed = [generator.article(n, revised=revised) for n in range(0, articles, step)]
        new = (generator.article(articles + n, revised=revised) for n in range(half))

        def both():
            yield from changed[:half]
            yield from new

        partial = target.with_suffix(".partial")
        write_files(both(), partial, per_file=2 * half, first_file=9001)
        partial.rename(target)
    return target


def dailymed_delta(labels: int, seed: int, release: Path) -> Path:
    """A DailyMed update zip: later versions of 0.5% of the release's labels and as many
    new labels (the release's own seed: the same set ids, one version on)."""
    from bench.dailymed_generator import LabelGenerator, delta_labels, write_update

    target = OUT / f"dailymed-delta-{labels}"
    if not target.exists():
        partial = target.with_suffix(".partial")
        write_update(delta_labels(LabelGenerator(), labels), partial)
        partial.rename(target)
    return target


def faers_next_quarter(reports: int, seed: int, release: Path) -> Path:
    """The quarter after the release's (`reports` over its quarters): new cases, later
    versions of the release's cases and a deleted-case list."""
    from bench.faers_generator import ReportGenerator, write_quarter

    quarters = len(list(release.glob("faers_ascii_*.zip")))
    per_quarter = reports // quarters
    target = OUT / f"faers-delta-{quarters}x{per_quarter}"
    if not target.exists():
        partial = target.with_suffix(".partial")
        write_quarter(ReportGenerator(reports_per_quarter=per_quarter), quarters, partial)
        partial.rename(target)
    return target


RELEASES = {"clinicaltrials": generated_zip}
DELTAS = {
    "clinicaltrials": lambda records, seed, release: delta_zip(records, seed),
    "pubmed": lambda records, seed, release: delta_update_file(records, seed),
    "dailymed": dailymed_delta,
    "faers": faers_next_quarter,
}
MARTS = {
    "clinicaltrials": ("marts.clinical_trials", "studies"),
    "pubmed": ("marts.pubmed_articles", "articles"),
    "dailymed": ("marts.drug_labels", "labels"),
    "faers": ("marts.adverse_event_reports", "reports"),
    "openfda": ("intermediate.int_openfda_ndc_current", "products"),  # no delta
}


# the raw table holding one row per record (bytes on disk per record)
RAW_RECORDS = {
    "clinicaltrials": "studies",
    "pubmed": "articles",
    "dailymed": "labels",
    "faers": "demo",
    "openfda": "ndc",
}


def count(connection: ConnectionInfo, relation: str) -> int:
    conn = connection.connect()
    with conn.cursor() as cur:
        cur.execute(f"select count(*) from {relation}")  # noqa: S608 - a constant name
        (rows,) = cur.fetchone()
    conn.close()
    return rows


def raw_footprint(connection: ConnectionInfo, source: str) -> tuple[dict[str, int], int]:
    """Rows per table of `raw_<source>` and the bytes its tables take (indexes included)."""
    conn = connection.connect()
    rows: dict[str, int] = {}
    with conn.cursor() as cur:
        cur.execute(
            "select table_name from information_schema.tables "
            "where table_schema = %s and table_name not like '\\_dlt%%' order by 1",
            (f"raw_{source}",),
        )
        tables = [name for (name,) in cur.fetchall()]
        for name in tables:
            cur.execute(f'select count(*) from "raw_{source}"."{name}"')  # noqa: S608
            (rows[name],) = cur.fetchone()
        cur.execute(
            "select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relkind = 'r'",
            (f"raw_{source}",),
        )
        (size,) = cur.fetchone()
    conn.close()
    return {name: count for name, count in rows.items() if count}, int(size)


def files_bytes(location: Path) -> int:
    files = [location] if location.is_file() else [p for p in location.rglob("*") if p.is_file()]
    return sum(file.stat().st_size for file in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=sorted(MARTS), default="clinicaltrials")
    parser.add_argument("--studies", type=int, default=100_000, help="records in the release")
    parser.add_argument("--release", type=Path, help="a generated release (default: made now)")
    parser.add_argument("--database", default="bench_pipeline")
    parser.add_argument(
        "--landed-in",
        type=float,
        help="the release is already landed in --database, in this many seconds: "
        "only build (from scratch), then the delta",
    )
    parser.add_argument(
        "--delta-seed", type=int, default=99, help="another seed, another delta (for reruns)"
    )
    args = parser.parse_args()
    source = args.source
    mart, unit = MARTS[source]

    # The pipeline folder holds dlt's load packages: gigabytes at a million records.
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as scratch_dir:
        scratch = Path(scratch_dir)
        if args.landed_in:
            connection = replace(warehouse_connection(), database=args.database)
            use_database(connection, scratch)
            land_s = args.landed_in
            release = args.release
            full_s = build(source, connection, full=True, keep=f"{args.database}-full")
            extract_rss = None
        else:
            if not args.release and source not in RELEASES:
                parser.error(f"{source}: give --release (see bench.generate)")
            release = args.release or RELEASES[source](args.studies)
            connection = fresh_database(args.database)
            use_database(connection, scratch)
            # as `medmirror refresh` does first: every source's raw tables exist, so the
            # marts of the sources not landed build empty
            from flows.init import init_warehouse

            init_warehouse()
            land_s = land(source, connection, release, scratch)
            # the extract ran in this process before anything else heavy: its peak so far
            extract_rss = peak_rss_mb()
            print(f"landed in {land_s:,.1f} s, peak RSS {extract_rss:,.0f} MB", flush=True)
            full_s = build(source, connection, keep=f"{args.database}-full")
        delta_land_s = incremental_s = None
        if source in DELTAS:
            delta = DELTAS[source](args.studies, args.delta_seed, release)
            delta_land_s = land(source, connection, delta, scratch)
            print(f"full build {full_s:,.1f} s; delta landed in {delta_land_s:,.1f} s", flush=True)
            incremental_s = build(source, connection, keep=f"{args.database}-incremental")
        current = count(connection, mart)
        landed, raw_bytes = raw_footprint(connection, source)
        release_bytes = files_bytes(Path(release)) if release else 0

    cores = os.cpu_count() or 1
    to_marts = args.studies / (land_s + full_s)
    rows = [
        ("land the release (bulk)", f"{land_s:,.1f}", f"{args.studies / land_s:,.0f}"),
        ("dbt build, full", f"{full_s:,.1f}", f"{args.studies / full_s:,.0f}"),
        (
            "files to built marts",
            f"{land_s + full_s:,.1f}",
            f"{to_marts:,.0f} ({to_marts / cores:,.0f} per core)",
        ),
    ]
    if delta_land_s is not None and incremental_s is not None:
        rows += [
            ("land the delta", f"{delta_land_s:,.1f}", ""),
            (
                "dbt build, incremental after the delta",
                f"{incremental_s:,.1f}",
                f"{incremental_s / full_s:.1%} of the full build",
            ),
        ]
    delta = " + delta" if delta_land_s is not None else ""
    print(f"{source}, {args.studies:,} {unit}{delta} -> {current:,} rows in {mart}; {machine()}")
    print(table(rows, ("step", "seconds", f"{unit}/s")))
    if extract_rss is not None:
        print(f"peak RSS of the extract (this process, after landing): {extract_rss:,.0f} MB")
    for keep in (f"{args.database}-full", f"{args.database}-incremental"):
        nodes = slowest_nodes(keep)
        if nodes:
            print(f"slowest nodes, {keep}: " + ", ".join(f"{n} {t:.1f}s" for n, t in nodes))
    records = landed.get(RAW_RECORDS.get(source, ""), 0) or args.studies
    print(
        f"release files {release_bytes / 1e6:,.1f} MB ({release_bytes / args.studies:,.0f} bytes "
        f"per {unit[:-1]}); raw_{source} {raw_bytes / 1e6:,.1f} MB on disk "
        f"({raw_bytes / records:,.0f} bytes per {unit[:-1]} landed, delta included), rows: "
        + ", ".join(f"{name} {rows:,}" for name, rows in landed.items())
    )


if __name__ == "__main__":
    main()
