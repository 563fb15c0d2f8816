"""From bulk files to built marts, then a 1% delta: what a first load and a daily refresh cost.

    python -m bench.pipeline --studies 100000
    python -m bench.pipeline --release bench/out/ctgov-1m --studies 1000000 --database bench_1m
    python -m bench.pipeline --source pubmed --release bench/out/pubmed-1m --studies 1000000 \
        --database bench_pubmed_1m

1. Lands a generated release (N ClinicalTrials.gov studies or PubMed articles) through the
   bulk path.
2. `dbt build` of everything the source feeds, from scratch (full).
3. Lands a 1% delta (half later versions of existing records, half new records) and runs
   the same `dbt build` again: incremental models rebuild only what changed.
Prints each step's time, records per second (and per core) from files to built marts, and
the incremental build's cost as a share of the full one. The database is kept for
`bench.search`.
"""

from __future__ import annotations

import argparse
import os
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


def build(source: str, connection: ConnectionInfo, *extra: str) -> float:
    from flows.dbt_runner import run_dbt

    with timed() as took:
        run_dbt(["build", "--select", f"source:{source}+", "--quiet", *extra], connection)
    return took["seconds"]


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


RELEASES = {"clinicaltrials": generated_zip}
DELTAS = {"clinicaltrials": delta_zip, "pubmed": delta_update_file}
MARTS = {
    "clinicaltrials": ("marts.clinical_trials", "studies"),
    "pubmed": (
        "marts.pubmed_articles",
        "articles",
    ),
}


def count(connection: ConnectionInfo, relation: str) -> int:
    conn = connection.connect()
    with conn.cursor() as cur:
        cur.execute(f"select count(*) from {relation}")  # noqa: S608 - a constant name
        (rows,) = cur.fetchone()
    conn.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=sorted(DELTAS), default="clinicaltrials")
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
            full_s = build(source, connection, "--full-refresh")
        else:
            if not args.release and source not in RELEASES:
                parser.error(f"{source}: give --release (see bench.generate)")
            release = args.release or RELEASES[source](args.studies)
            connection = fresh_database(args.database)
            use_database(connection, scratch)
            land_s = land(source, connection, release, scratch)
            full_s = build(source, connection)
        delta = DELTAS[source](args.studies, args.delta_seed)
        delta_land_s = land(source, connection, delta, scratch)
        incremental_s = build(source, connection)
        current = count(connection, mart)

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
        ("land the 1% delta", f"{delta_land_s:,.1f}", ""),
        (
            "dbt build, incremental after the delta",
            f"{incremental_s:,.1f}",
            f"{incremental_s / full_s:.1%} of the full build",
        ),
    ]
    print(
        f"{source}, {args.studies:,} {unit} + 1% delta -> {current:,} rows in {mart}; {machine()}"
    )
    print(table(rows, ("step", "seconds", f"{unit}/s")))


if __name__ == "__main__":
    main()
