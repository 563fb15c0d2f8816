"""The offline main job: land every source's bundled real samples, then build the marts."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from prefect import flow

from flows.access import connection_for
from flows.ops import refresh_lock
from flows.refresh import build_landed, extract_source, landed_rows, prepare_warehouse
from flows.sources import SOURCES
from medmirror.settings import load_settings

# Sources whose samples hold a later release: the demo lands the first release in a
# refresh of its own (the source's initial load), then the rest, so `marts.changes`
# shows what the later release changed (PubMed's 2026 update file revises and adds
# citations; FAERS 2017Q2 brings a signal newly over threshold). PubMed's older 2021
# update-file sample belongs to the first release.
FIRST_RELEASE = {
    "pubmed": (
        "pubmed21n1063_updatefile_sample.xml.gz",
        "pubmed26n1334_baseline_sample.xml.gz",
    ),
    "faers": ("aers_ascii_2004q1_subset.zip",),
}


def first_release(name: str, samples: Path) -> Path:
    """A folder of the data directory holding a copy of the source's first release (the
    same place every run, so a second demo finds it landed)."""
    folder = load_settings().data_dir / "demo" / f"{name}-first-release"
    folder.mkdir(parents=True, exist_ok=True)
    for file_name in FIRST_RELEASE[name]:
        if not (folder / file_name).exists():
            shutil.copy2(samples / file_name, folder / file_name)
    return folder


@flow(name="demo")
def demo() -> dict[str, Any]:
    """Land the samples of every source that bundles them (through the same tasks as a
    bulk refresh; a source with a later release in two refreshes, its first release
    first), then `dbt build` what they feed (nothing when nothing new landed and every
    earlier landing was built: a second demo)."""
    with_samples = [spec for spec in SOURCES.values() if spec.samples]
    landed: dict[str, Any] = {}
    with refresh_lock(connection_for("transformer")):
        prepare_warehouse()
        for spec in with_samples:
            if spec.name in FIRST_RELEASE:
                landed[f"{spec.name} (first release)"] = extract_source.with_options(
                    name=f"{spec.name}-first-release"
                )(spec.name, False, str(first_release(spec.name, spec.samples)))
            landed[spec.name] = extract_source.with_options(name=spec.name)(
                spec.name, False, str(spec.samples)
            )
        new = [
            spec.name
            for spec in with_samples
            if any(
                landed_rows(landed[key])
                for key in (spec.name, f"{spec.name} (first release)")
                if key in landed
            )
        ]
        build_landed(new, [spec.name for spec in with_samples])
    return landed
