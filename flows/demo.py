"""The offline main job: land every source's bundled real samples, then build the marts."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.access import connection_for
from flows.ops import refresh_lock
from flows.refresh import build_marts, extract_source, prepare_warehouse
from flows.sources import SOURCES


@flow(name="demo")
def demo() -> dict[str, Any]:
    """Land the samples of every source that bundles them (through the same tasks as a
    bulk refresh), then `dbt build` what they feed."""
    with_samples = [spec for spec in SOURCES.values() if spec.samples]
    landed: dict[str, Any] = {}
    with refresh_lock(connection_for("transformer")):
        prepare_warehouse()
        for spec in with_samples:
            landed[spec.name] = extract_source.with_options(name=spec.name)(
                spec.name, False, str(spec.samples)
            )
        build_marts([spec.name for spec in with_samples])
    return landed
