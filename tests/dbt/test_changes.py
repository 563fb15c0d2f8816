"""The what-changed feed: a source's first refresh is one row, later landings one row per
change, on the real samples and variants derived from them (later versions of a study,
a PubMed update file that revises and deletes, later DailyMed label versions)."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from flows.changes import changes
from flows.ops import RunRecord, record_run
from medmirror.settings import SAMPLES_DIR
from tests.conftest import build_models, land_source, query, sample
from tests.extract.test_dailymed import DERIVED as DAILYMED_DERIVED
from tests.extract.test_dailymed import HUMIRA, LIPITOR
from tests.extract.test_pubmed import BASELINE, DERIVED_UPDATE, UPDATE, release
from tests.test_cli import medmirror


def first_refresh(connection, source: str, location: Path) -> None:
    """Land `source` from `location` as a refresh does, and log the run as it does."""
    started = datetime.now(UTC)
    landed = land_source(connection, source, bulk_location=str(location))
    record_run(
        connection,
        RunRecord(
            flow_run_id=None,
            source=source,
            way_in=str(location),
            is_full=False,
            started_at=started,
            finished_at=datetime.now(UTC),
            succeeded=True,
            rows_landed=landed.total_rows,
            rejected=0,
            windows=landed.windows,
            error=None,
        ),
    )


def build_feed(connection) -> None:
    """Build the feed and what the sources of this file feed on the way, with their tests
    (the other marts these sources feed are not what this file checks: a refresh builds
    them, their own tests read them)."""
    build_models(connection, "changes", sources=["clinicaltrials", "pubmed", "dailymed"])


@pytest.mark.long
def test_initial_loads_then_one_row_per_change(database, tmp_path: Path):
    studies = tmp_path / "clinicaltrials"
    shutil.copytree(SAMPLES_DIR / "clinicaltrials", studies)
    first_refresh(database, "clinicaltrials", studies)
    pubmed = release(tmp_path / "pubmed", BASELINE, UPDATE)
    first_refresh(database, "pubmed", pubmed)
    first_refresh(database, "dailymed", SAMPLES_DIR / "dailymed")
    build_feed(database)

    # Each source's first refresh (several files, several loads) is one row.
    assert query(
        database,
        "select source, change_type, record_count, detail from marts.changes order by 1",
    ) == [
        ("clinicaltrials", "initial_load", 19, "19 studies"),
        ("dailymed", "initial_load", 6, "6 label sets"),
        ("pubmed", "initial_load", 60, "60 citations"),
    ]

    # Later: NCT03475563's next version (derived: COMPLETED), PubMed's next update file
    # (derived: one revision, two deletions), Lipitor 12 and HUMIRA 1561 (derived).
    (studies / "study_NCT03475563.json").write_bytes(
        sample("clinicaltrials/derived/study_NCT03475563_later_version.json")
    )
    # (--full: the bulk cursor is past the later version's date; the other studies land
    # again unchanged, which is no change)
    land_source(database, "clinicaltrials", bulk_location=str(studies), full=True)
    land_source(database, "pubmed", bulk_location=str(release(pubmed, DERIVED_UPDATE)))
    land_source(database, "dailymed", bulk_location=str(DAILYMED_DERIVED / "later_versions"))
    build_feed(database)

    assert query(
        database,
        """
        select source, record_key, change_type, detail, published_date
        from marts.changes where change_type <> 'initial_load'
        order by source, record_key, change_type
        """,
    ) == [
        ("clinicaltrials", "NCT03475563", "status_changed", "UNKNOWN -> COMPLETED",
         date(2020, 3, 2)),
        ("dailymed", HUMIRA, "boxed_warning_removed", "version 1561", date(2013, 9, 30)),
        ("dailymed", HUMIRA, "new_label_version",
         "version 1561; added 42229-5; removed 34066-1", date(2013, 9, 30)),
        ("dailymed", LIPITOR, "new_label_version", "version 12; changed 34070-3",
         date(2015, 1, 13)),
        ("pubmed", "41576520", "updated", None, date(2026, 2, 2)),
        ("pubmed", "41576697", "withdrawn", None, None),
        ("pubmed", "41587763", "withdrawn", None, None),
    ]  # fmt: skip
    # Landing the same files again changes nothing.
    land_source(database, "clinicaltrials", bulk_location=str(studies), full=True)
    build_feed(database)
    assert query(database, "select count(*) from marts.changes") == [(10,)]

    # `medmirror changes` prints them, newest first, by source and date.
    printed = medmirror("changes", "--source", "pubmed", "--since", "2000-01-01")
    assert printed.returncode == 0, printed.stderr
    assert "4 changes" in printed.stdout
    assert "41587763" in printed.stdout and "withdrawn" in printed.stdout
    assert "60 citations" in printed.stdout  # the initial load
    assert changes(database, source="dailymed", limit=1)[0] == 4
    assert changes(database, since=date(2999, 1, 1)) == (0, [])
