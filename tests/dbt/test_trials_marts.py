"""The trials marts: real dbt on what the real extract landed from real samples."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from extract.clinicaltrials import clinicaltrials
from extract.landing import land, pipeline_for
from flows.dbt_runner import build_sources
from flows.search import search
from medmirror.settings import SAMPLES_DIR, load_settings
from tests.conftest import StudiesApi, json_response, land_source, query, sample
from tests.extract.test_clinicaltrials import (
    PAGE1,
    PAGE2_LAST,
    PHELAN_IDS,
    RESYNC_WITHOUT_ONE,
)


def build(connection) -> None:
    build_sources(connection, ["clinicaltrials"])


def land_a_study_then_its_later_version(connection, tmp_path: Path) -> None:
    """NCT03475563 as sampled, then its later version (derived: COMPLETED, 2020-03-02)."""
    release = tmp_path / "release"
    release.mkdir()
    shutil.copy(SAMPLES_DIR / "clinicaltrials" / "study_NCT03475563.json", release)
    land_source(connection, "clinicaltrials", bulk_location=str(release))
    later = sample("clinicaltrials/derived/study_NCT03475563_later_version.json")
    (release / "study_NCT03475563.json").write_bytes(later)
    land_source(connection, "clinicaltrials", bulk_location=str(release))


def resync_without_one(connection, studies_api: StudiesApi, monkeypatch) -> None:
    """A re-sync whose answer no longer holds NCT01525901."""
    monkeypatch.setenv("SOURCES__CLINICALTRIALS__RECHECK_DAYS", "1")  # every study this run
    studies_api.resyncs.append(json_response(RESYNC_WITHOUT_ONE))
    pipeline = pipeline_for("clinicaltrials", connection, load_settings().dlt_dir)
    land(pipeline, lambda: clinicaltrials().with_resources("studies_resync"))


def test_marts_hold_one_row_per_distinct_study_and_search_finds_by_condition(database):
    samples = str(SAMPLES_DIR / "clinicaltrials")
    land_source(database, "clinicaltrials", bulk_location=samples)
    land_source(database, "clinicaltrials", bulk_location=samples, full=True)  # everything again

    build(database)

    ((raw_rows, distinct),) = query(
        database, "select count(*), count(distinct nct_id) from raw_clinicaltrials.studies"
    )
    # The re-sync brought every study again, the same versions: raw keeps them once
    # (extract/versions.py) ...
    assert (raw_rows, distinct) == (19, 19)
    ((mart_rows, mart_ids),) = query(
        database, "select count(*), count(distinct nct_id) from marts.clinical_trials"
    )
    assert mart_rows == mart_ids == 19  # ... and is one row in the mart
    # Every id and code of the real studies has its expected shape (none counted as odd).
    assert query(
        database,
        "select count(*), count(*) filter (where rows_valid = rows_complete), max(rows_checked) "
        "from ops.clinicaltrials_data_quality",
    ) == [(4, 4, 19)]
    assert query(database, "select count(*) from marts.trial_conditions") == [(51,)]
    assert query(database, "select count(*) from marts.trial_interventions") == [(32,)]

    # "Angelman" appears only among the conditions of NCT03836300, not in its title.
    hits = search(database, "clinical_trials", "Angelman", ["nct_id", "brief_title"])
    assert [hit["nct_id"] for hit in hits] == ["NCT03836300"]
    assert "Angelman" not in hits[0]["brief_title"]

    (study,) = query(
        database,
        """
        select overall_status, phase, start_date, enrollment_count, lead_sponsor_name,
               conditions, intervention_names, has_results
        from marts.clinical_trials where nct_id = 'NCT05187377'
        """,
    )
    assert study[0] == "COMPLETED"
    assert study[1] == "PHASE2"
    assert study[2] == date(2022, 1, 19)
    assert study[3] == 32
    assert "Phelan-McDermid Syndrome" in study[5]
    assert study[7] is False


def test_the_latest_version_of_a_study_wins(database, tmp_path: Path):
    land_a_study_then_its_later_version(database, tmp_path)

    build(database)

    assert query(
        database,
        "select nct_id, overall_status, last_update_post_date from marts.clinical_trials",
    ) == [("NCT03475563", "COMPLETED", date(2020, 3, 2))]


def test_a_study_missing_from_a_resync_is_absent_from_the_marts(
    database, studies_api: StudiesApi, monkeypatch
):
    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]
    land_source(database, "clinicaltrials")
    build(database)
    assert query(database, "select count(*) from marts.clinical_trials") == [(10,)]

    resync_without_one(database, studies_api, monkeypatch)
    build(database)

    ids = [row[0] for row in query(database, "select nct_id from marts.clinical_trials order by 1")]
    assert ids == [nct_id for nct_id in PHELAN_IDS if nct_id != "NCT01525901"]
    assert query(
        database, "select count(*) from marts.trial_conditions where nct_id = 'NCT01525901'"
    ) == [(0,)]


def test_search_vector_has_a_gin_index(database):
    land_source(database, "clinicaltrials", bulk_location=str(SAMPLES_DIR / "clinicaltrials"))
    build(database)
    build(database)  # a rebuilt table keeps its index

    indexes = query(
        database,
        "select indexdef from pg_indexes where schemaname = 'marts' "
        "and tablename = 'clinical_trials'",
    )
    assert any("USING gin (search_vector" in definition for (definition,) in indexes)


def mart_contents(connection) -> dict[str, list[tuple]]:
    return {
        mart: query(connection, f"select * from marts.{mart} order by 1")  # noqa: S608
        for mart in ("clinical_trials", "trial_conditions", "trial_interventions")
    }


def test_incremental_build_rebuilds_only_what_changed_and_equals_a_full_build(
    database, studies_api: StudiesApi, monkeypatch, tmp_path: Path
):
    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]
    land_source(database, "clinicaltrials")
    build(database)
    row_versions = dict(query(database, "select nct_id, xmin::text from marts.clinical_trials"))

    # A deletion found by re-sync, then a new study and a later version of it.
    resync_without_one(database, studies_api, monkeypatch)
    land_a_study_then_its_later_version(database, tmp_path)

    build(database)
    incremental = mart_contents(database)
    after = dict(query(database, "select nct_id, xmin::text from marts.clinical_trials"))
    build_sources(database, ["clinicaltrials"], full=True)

    assert incremental == mart_contents(database)
    assert "NCT01525901" not in after
    assert query(
        database,
        "select overall_status from marts.clinical_trials where nct_id = 'NCT03475563'",
    ) == [("COMPLETED",)]
    unchanged = [nct_id for nct_id in PHELAN_IDS if nct_id != "NCT01525901"]
    assert all(after[nct_id] == row_versions[nct_id] for nct_id in unchanged)  # not rewritten
