"""The resource state an older medmirror left in a warehouse, written as it was, to show
that an upgrade adopts it (the files it landed do not land again)."""

from __future__ import annotations

from typing import Any

import dlt

from extract.landing import pipeline_for
from medmirror.settings import ConnectionInfo, load_settings


def write_legacy_state(
    connection: ConnectionInfo, source: str, resource: str, state: dict[str, Any]
) -> None:
    """Commit `state` as the state of `source`'s `resource`, through dlt as a load of its
    own (no rows), exactly as the source's own ledger kept it before `BulkLedger`."""

    @dlt.source(name=source)
    def older() -> Any:
        @dlt.resource(name=resource)
        def rows() -> Any:
            dlt.current.resource_state().update(state)
            yield from ()

        return rows

    pipeline = pipeline_for(source, connection, load_settings().dlt_dir)
    pipeline.run(older())
