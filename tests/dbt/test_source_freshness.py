"""`marts.source_freshness`: the verdicts of `medmirror status` as a view, on real loads
(DailyMed's real labels, FoodData Central's download constructed from real records) and
reconciliations as refreshes record them: the view and `medmirror status` agree, source
by source."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flows.sources import SOURCES, spec_of
from flows.status import freshness_rule, source_status, verdict
from medmirror.settings import SAMPLES_DIR, ConnectionInfo
from tests.conftest import land_source, query
from tests.extract.test_fooddata import DOWNLOAD


def reconciled(database: ConnectionInfo, source: str, resource: str, counts, as_of) -> None:
    """One row of `ops.reconciliation`, as `flows/reconcile.py` records it."""
    conn = database.connect()
    with conn, conn.cursor() as cur:
        cur.execute(
            "insert into ops.reconciliation (source, resource, checked_at, publisher_count, "
            "mirror_count, counted, how, publisher_as_of, mirror_as_of) "
            "values (%s, %s, %s, %s, %s, 'things', 'a test', %s, %s)",
            (source, resource, datetime.now(UTC), *counts, *as_of),
        )
    conn.close()


def test_the_view_gives_the_verdicts_status_gives(database):
    land_source(database, "dailymed", bulk_location=str(SAMPLES_DIR / "dailymed"))
    land_source(database, "fooddata", bulk_location=str(DOWNLOAD))
    land_source(database, "hcpcs", bulk_location=str(SAMPLES_DIR / "hcpcs"))
    # DailyMed: one label more at the publisher (withdrawn there? rejected here?); FoodData:
    # the publisher has published a release the mirror has not landed whole; HCPCS: counts
    # and dates agree.
    reconciled(database, "dailymed", "labels", (7, 6), (None, None))
    reconciled(database, "fooddata", "foods", (12, 12), (date(2026, 12, 1), date(2026, 11, 1)))
    reconciled(database, "hcpcs", "codes", (1_234, 1_234), (date(2026, 1, 1), date(2026, 1, 1)))

    view = {
        row[0]: row[1:]
        for row in query(
            database,
            "select source, verdict, why, last_loaded_at is not null, counts, publisher_as_of "
            "from marts.source_freshness",
        )
    }

    assert set(view) == set(SOURCES)
    assert view["dailymed"][:2] == ("diverged", "things: publisher 7, mirror 6")
    assert view["fooddata"][:2] == (
        "stale",
        "foods: the publisher published as of 2026-12-01, the mirror landed 2026-11-01 whole",
    )
    assert view["hcpcs"] == ("fresh", None, True, "codes: 1,234 / 1,234", date(2026, 1, 1))
    assert view["pubmed"] == ("never loaded", None, False, None, None)
    # `medmirror status` takes the view's verdicts; its own statement of the rules
    # (`flows.status.verdict`, used before dbt built the view) gives the same ones.
    now = datetime.now(UTC)
    for name, spec in SOURCES.items():
        status = source_status(database, spec)
        assert (status.verdict, status.why) == view[name][:2], name
        assert verdict(status, freshness_rule(spec), now) == view[name][:2], name
        assert view[name][2] == (status.last_loaded_at is not None), name
    newest = query(
        database, "select newest_record from marts.source_freshness where source = 'dailymed'"
    )
    assert newest == [(str(source_status(database, spec_of("dailymed")).newest_record),)]
