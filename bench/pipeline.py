"""From bulk files to built marts, then a 1% delta: what a first load and a daily refresh cost.

    python -m bench.pipeline --studies 100000
    python -m bench.pipeline --release bench/out/ctgov-1m --studies 1000000 --database bench_1m

1. Lands a generated ClinicalTrials.gov full download (N studies) through the bulk path.
2. `dbt build` of everything the source feeds, from scratch (full).
3. Lands a 1% delta (half later versions of existing studies, half new studies) and runs
   the same `dbt build` again: incremental models rebuild only what changed.
Prints each step's time, studies per second (and per core) from files to built marts, and
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


def land(connection: ConnectionInfo, location: Path, scratch: Path) -> float:
    from extract.clinicaltrials import RAW_INDEXES, clinicaltrials
    from extract.landing import land as land_windows
    from extract.landing import pipeline_for

    pipeline = pipeline_for("clinicaltrials", connection, scratch / "dlt")
    with timed() as took:
        land_windows(
            pipeline, lambda: clinicaltrials(bulk_location=str(location)), indexes=RAW_INDEXES
        )
    return took["seconds"]


def build(connection: ConnectionInfo, *extra: str) -> float:
    from flows.dbt_runner import run_dbt

    with timed() as took:
        run_dbt(["build", "--select", "source:clinicaltrials+", "--quiet", *extra], connection)
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


def count(connection: ConnectionInfo, relation: str) -> int:
    conn = connection.connect()
    with conn.cursor() as cur:
        cur.execute(f"select count(*) from {relation}")  # noqa: S608 - a constant name
        (rows,) = cur.fetchone()
    conn.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=100_000)
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

    scratch = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    if args.landed_in:
        connection = replace(warehouse_connection(), database=args.database)
        use_database(connection, scratch)
        land_s = args.landed_in
        full_s = build(connection, "--full-refresh")
    else:
        release = args.release or generated_zip(args.studies)
        connection = fresh_database(args.database)
        use_database(connection, scratch)
        land_s = land(connection, release, scratch)
        full_s = build(connection)
    delta = delta_zip(args.studies, args.delta_seed)
    delta_land_s = land(connection, delta, scratch)
    incremental_s = build(connection)
    trials = count(connection, "marts.clinical_trials")

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
        f"ClinicalTrials.gov, {args.studies:,} studies + 1% delta -> {trials:,} trials in the "
        f"mart; {machine()}"
    )
    print(table(rows, ("step", "seconds", "studies/s")))


if __name__ == "__main__":
    main()
