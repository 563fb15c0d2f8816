"""Peak memory of each source meeting the hostile corpus's bombs at full size.

    python -m bench.memory hostile

Builds the bombs of tests/hostile at 1 GiB decompressed (once, into bench/out/hostile),
plus a 1,000,000-deep JSON nesting bomb, and lands each, beside a real file of the same
source, in a fresh process (the full extract: read, parse, land, commit), printing the
peak resident memory (RSS), what landed and how many inputs were rejected.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench.common import OUT, machine, table
from tests.hostile import build

GIB = 1 << 30
STUDY = build.SAMPLES / "clinicaltrials" / "study_NCT00973089.json"
FOLDER = OUT / "hostile"
# case -> (source, real file landed beside it)
CASES = {
    "ctgov_gzip_bomb.json.gz": ("clinicaltrials", STUDY),
    "ctgov_zip_bomb.zip": ("clinicaltrials", None),  # holds a real study itself
    "ctgov_nesting_bomb.json": ("clinicaltrials", STUDY),
    "dailymed_nested_bomb.zip": ("dailymed", None),  # holds a real label itself
    "dailymed_billion_laughs.xml": ("dailymed", build.SPL),
    "pubmed_element_bomb.xml.gz": ("pubmed", build.PUBMED),
    "pubmed_xxe.xml": ("pubmed", build.PUBMED),
    "openfda_nesting_bomb/drug-label-0001-of-0001.json": ("openfda", None),
}
NESTING_DEPTH = 1_000_000


def corpus() -> Path:
    """The full-size bombs and the small cases, one folder per case (made once)."""
    done = FOLDER / ".built"
    if done.exists():
        return FOLDER
    shutil.rmtree(FOLDER, ignore_errors=True)
    files = {**build.small_cases(), **build.bombs(GIB)}
    deep = json.loads(build.PARTITION.read_bytes())
    deep["results"][-1]["deep"] = "DEEP"
    text = json.dumps(deep, indent=2).encode()
    files["openfda_nesting_bomb/drug-label-0001-of-0001.json"] = text.replace(
        b'"DEEP"', build.nested(NESTING_DEPTH)
    )
    study = build.STUDY.read_bytes()
    files["ctgov_nesting_bomb.json"] = (
        study.rstrip()[:-1].rstrip() + b',\n  "deep": ' + build.nested(NESTING_DEPTH) + b"\n}\n"
    )
    for index, (name, (_, beside)) in enumerate(CASES.items()):
        folder = FOLDER / f"{index:02d}"
        target = folder / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[name])
        if beside is not None:
            shutil.copy(beside, folder / beside.name)
    done.touch()
    return FOLDER


def run() -> None:
    from bench.memory import peak_memory

    folder = corpus()
    rows = []
    for index, (name, (source, _)) in enumerate(CASES.items()):
        release = folder / f"{index:02d}"
        size = sum(path.stat().st_size for path in release.iterdir())
        measured = peak_memory(source, index, release)
        rows.append(
            (
                f"`{Path(name).name}`",
                source,
                f"{size / 1e6:,.2f} MB",
                f"{measured['rows']:,}",
                f"{measured.get('rejected', '?')}",
                f"{measured['peak_mib']:,.0f} MiB",
            )
        )
    print(f"Peak RSS of each source meeting a hostile input (bombs at 1 GiB); {machine()}")
    print(table(rows, ("input", "source", "on disk", "rows landed", "rejected", "peak RSS")))
