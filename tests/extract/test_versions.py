"""Raw keeps every distinct record version once (extract/versions.py): a full re-sync of
an unchanged release adds no raw rows, a changed record adds exactly its new version."""

from __future__ import annotations

import shutil
from pathlib import Path

from flows.init import init_warehouse
from tests.conftest import SAMPLES, land_source, query, sample

STUDIES = SAMPLES / "clinicaltrials"


def raw_studies(database) -> int:
    return query(database, "select count(*) from raw_clinicaltrials.studies")[0][0]


def test_a_full_resync_of_the_same_release_adds_no_raw_rows(database):
    first = land_source(database, "clinicaltrials", bulk_location=str(STUDIES))
    landed = raw_studies(database)
    assert first.total_rows == landed == 19

    again = land_source(database, "clinicaltrials", bulk_location=str(STUDIES), full=True)

    assert again.total_rows == 0
    assert again.repeated == {"studies": 19}
    assert raw_studies(database) == 19
    hashes = query(
        database,
        "select count(distinct record_hash), count(record_hash) from raw_clinicaltrials.studies",
    )
    assert hashes == [(19, 19)]


def test_a_changed_record_adds_only_its_new_version(database, tmp_path: Path):
    release = tmp_path / "release"
    shutil.copytree(STUDIES, release)
    land_source(database, "clinicaltrials", bulk_location=str(release))
    # The next release: every study as before but one, in its later version (a derived
    # copy of the real study, see tests/fixtures/clinicaltrials/derived).
    later = sample("clinicaltrials/derived/study_NCT03475563_later_version.json")
    (release / "study_NCT03475563.json").write_bytes(later)

    resync = land_source(database, "clinicaltrials", bulk_location=str(release), full=True)

    assert resync.rows == {"studies": 1}
    assert raw_studies(database) == 20
    versions = query(
        database,
        "select count(*) from raw_clinicaltrials.studies where nct_id = 'NCT03475563'",
    )
    assert versions == [(2,)]


def test_init_adds_the_hash_to_a_warehouse_from_before_it(database):
    """A warehouse landed before `record_hash` existed: init adds it, filled for every row."""
    land_source(database, "clinicaltrials", bulk_location=str(STUDIES))
    query_all = database.connect()
    query_all.autocommit = True
    with query_all.cursor() as cur:
        cur.execute("alter table raw_clinicaltrials.studies drop column record_hash")
    query_all.close()

    init_warehouse()

    assert query(
        database,
        "select count(*), count(record_hash), count(*) filter "
        "(where record_hash = md5(record::text)) from raw_clinicaltrials.studies",
    ) == [(19, 19, 19)]
    again = land_source(database, "clinicaltrials", bulk_location=str(STUDIES), full=True)
    assert again.total_rows == 0
