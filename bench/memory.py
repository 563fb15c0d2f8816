"""Peak memory of an extract: it must not grow with the size of the input.

    python -m bench.memory --studies 20000 --times 10

Lands a generated ClinicalTrials.gov release of N studies, then one 10 times larger,
each in a fresh process (the full extract: read, parse, land, commit), and prints each
process's peak resident memory (RSS) and their ratio.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import fresh_database, generated_zip, machine, table

CHILD = """
import json, resource, sys
from pathlib import Path
from bench.common import use_database
from extract.clinicaltrials import clinicaltrials
from extract.landing import land, pipeline_for
from medmirror.settings import ConnectionInfo
connection = ConnectionInfo.from_url(sys.argv[1])
scratch = Path(sys.argv[3])
use_database(connection, scratch)
pipeline = pipeline_for("clinicaltrials", connection, scratch / "dlt")
result = land(pipeline, lambda: clinicaltrials(bulk_location=sys.argv[2]))
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": result.total_rows, "peak_mib": peak_kib / 1024}))
"""


def peak_memory(studies: int, release: Path) -> dict:
    connection = fresh_database(f"bench_memory_{studies}")
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, connection.url(), str(release), scratch],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=20_000)
    parser.add_argument("--times", type=int, default=10)
    args = parser.parse_args()

    rows = []
    results = []
    for studies in (args.studies, args.studies * args.times):
        release = generated_zip(studies)
        measured = peak_memory(studies, release)
        results.append(measured)
        rows.append(
            (
                f"{studies:,} studies",
                f"{release.stat().st_size / 1e6:,.0f} MB zip",
                f"{measured['rows']:,}",
                f"{measured['peak_mib']:,.0f} MiB",
            )
        )
    ratio = results[1]["peak_mib"] / results[0]["peak_mib"]
    print(
        f"Peak RSS of the ClinicalTrials.gov bulk extract, input x{args.times}: "
        f"memory x{ratio:.2f}; {machine()}"
    )
    print(table(rows, ("input", "file", "rows landed", "peak RSS")))


if __name__ == "__main__":
    main()
