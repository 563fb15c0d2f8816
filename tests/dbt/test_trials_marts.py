"""The trials marts: real dbt on what the real extract landed from real samples."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

from extract.clinicaltrials import clinicaltrials
from extract.landing import land, pipeline_for
from flows.search import search
from medmirror.settings import SAMPLES_DIR, load_settings
from tests.conftest import StudiesApi, build_models, json_response, land_source, query, sample
from tests.extract.test_clinicaltrials import (
    PAGE1,
    PAGE2_LAST,
    PHELAN_IDS,
    RESYNC_WITHOUT_ONE,
)


def build(connection, *, full: bool = False) -> None:
    """Build the trials marts and their data-quality checks, what ClinicalTrials.gov feeds
    on the way and their tests (50 nodes; a refresh of ClinicalTrials.gov builds everything
    it feeds, 127: the drug links and the what-changed feed have tests of their own)."""
    build_models(
        connection,
        "path:models/marts/trials",
        "clinicaltrials_data_quality",
        sources=["clinicaltrials"],
        full=full,
    )


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
    monkeypatch.delenv("SOURCES__CLINICALTRIALS__RESYNC_BATCH", raising=False)  # no cap
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


def test_search_vector_has_a_gin_index(samples_database):
    database = samples_database("clinicaltrials")  # the real studies landed and built
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
    build(database, full=True)

    assert incremental == mart_contents(database)
    assert "NCT01525901" not in after
    assert query(
        database,
        "select overall_status from marts.clinical_trials where nct_id = 'NCT03475563'",
    ) == [("COMPLETED",)]
    unchanged = [nct_id for nct_id in PHELAN_IDS if nct_id != "NCT01525901"]
    assert all(after[nct_id] == row_versions[nct_id] for nct_id in unchanged)  # not rewritten


def test_sites_eligibility_outcomes_and_results_of_the_real_studies(samples_database):
    """The bundled real API v2 studies: every site, age limits in years, every outcome."""
    database = samples_database("clinicaltrials")

    # 13 sites in the 19 studies (the Phelan-McDermid pages' studies were asked without
    # their locations), in each study's order, with the geo point CT.gov gives.
    assert query(database, "select count(*), count(latitude) from marts.trial_locations") == [
        (13, 13)
    ]
    assert query(
        database,
        """
        select facility, site_status, city, state, zip, country, latitude, longitude
        from marts.trial_locations where nct_id = 'NCT03475563' order by location_position
        limit 2
        """,
    ) == [
        ("Hospital Universitari Parc Taulí", "RECRUITING", "Sabadell", "Barcelona", "08208",
         "Spain", Decimal("41.54329"), Decimal("2.10942")),
        ("Hospital Universitari Vall d'Hebron", "RECRUITING", "Barcelona", None, "08035",
         "Spain", Decimal("41.38879"), Decimal("2.15899")),
    ]  # fmt: skip

    # Age limits as written and in years ("3 Months" is a quarter year; no limit is null).
    assert query(
        database,
        """
        select nct_id, minimum_age, minimum_age_years, maximum_age, maximum_age_years, sex,
               is_accepting_healthy_volunteers
        from marts.clinical_trials
        where nct_id in ('NCT07119606', 'NCT03475563', 'NCT00973089') order by nct_id
        """,
    ) == [
        ("NCT00973089", "5 Years", Decimal("5.00"), "8 Years", Decimal("8.00"), "ALL", True),
        ("NCT03475563", "18 Years", Decimal("18.00"), None, None, "ALL", False),
        ("NCT07119606", "3 Months", Decimal("0.25"), "99 Years", Decimal("99.00"), None, None),
    ]
    # "Trials for patients over 65": the studies whose limits admit a 65-year-old.
    assert [
        nct_id
        for (nct_id,) in query(
            database,
            """
            select nct_id from marts.clinical_trials
            where coalesce(minimum_age_years, 0) <= 65 and coalesce(maximum_age_years, 999) >= 65
            order by nct_id
            """,
        )
    ] == [
        "NCT00711542", "NCT02576665", "NCT03475563", "NCT03836300", "NCT04207047",
        "NCT06604689", "NCT07119606",
    ]  # fmt: skip
    criteria = query(
        database,
        "select eligibility_criteria from marts.clinical_trials where nct_id = 'NCT03475563'",
    )[0][0]
    assert criteria.startswith("Inclusion Criteria:") and "Cardiogenic shock." in criteria

    # Results: two studies posted theirs, with the dates CT.gov gives.
    assert query(
        database,
        """
        select nct_id, results_status, results_first_submitted_date, results_first_posted_date
        from marts.clinical_trials where results_status <> 'NONE' order by nct_id
        """,
    ) == [
        ("NCT00763412", "POSTED", date(2016, 7, 11), date(2017, 6, 5)),
        ("NCT05594173", "POSTED", date(2022, 10, 27), date(2022, 11, 21)),
    ]

    # Outcomes: 13 primary and 24 secondary measures, each with its time frame.
    assert query(
        database,
        "select outcome_type, count(*) from marts.trial_outcomes group by 1 order by 1",
    ) == [("PRIMARY", 13), ("SECONDARY", 24)]
    assert query(
        database,
        """
        select measure, time_frame from marts.trial_outcomes
        where nct_id = 'NCT03475563' and outcome_type = 'PRIMARY' order by outcome_position
        """,
    ) == [("Successful angioplasty", "1 day"), ("MACE", "30 days"), ("MACE", "1 year")]


def test_trial_articles_from_both_publishers_and_their_counts(samples_database):
    """The real samples: the studies' references (21 with a PMID) and the update files'
    citations whose DataBankList names a study no sample holds (41617358: NCT00717236,
    33234656 of the 2021 file: NCT04380987)."""
    database = samples_database("clinicaltrials", "pubmed")

    assert query(
        database,
        "select link_method, count(*), count(*) filter (where is_trial_mirrored), "
        "count(*) filter (where is_article_mirrored) from marts.trial_articles "
        "group by 1 order by 1",
    ) == [("clinicaltrials_reference", 21, 21, 0), ("pubmed_databank", 2, 0, 2)]
    assert query(
        database,
        "select reference_type, left(citation, 21) from marts.trial_articles "
        "where trial_article_id = 'NCT03475563-25828372'",
    ) == [("RESULT", "Gil RJ, Bil J, Dzavik")]
    assert query(
        database,
        "select nct_id, article_count from marts.clinical_trials where article_count > 0 "
        "order by nct_id",
    ) == [("NCT00711542", 7), ("NCT00973089", 1), ("NCT03475563", 3), ("NCT03630471", 10)]
    assert query(
        database,
        "select pmid, trial_count from marts.pubmed_articles where trial_count > 0 order by 1",
    ) == [("33234656", 1), ("41617358", 1)]  # 33234656 names NCT04380987 (not mirrored)


def build_links(connection, sources: list[str], *, full: bool = False) -> None:
    """The trials, their articles and the articles, as a refresh of `sources` builds them
    (37 nodes for both sources; their refresh builds everything they feed, 157)."""
    links = ("clinical_trials", "trial_articles", "pubmed_articles")
    build_models(connection, *links, sources=sources, full=full)


def test_a_citation_landed_later_relinks_its_trial_incrementally(database, tmp_path: Path):
    """A later update file (derived: a real citation naming NCT04207047) rebuilds that
    study's row only, with its article counted, as a full build has it."""
    land_source(database, "clinicaltrials", bulk_location=str(SAMPLES_DIR / "clinicaltrials"))
    pubmed = tmp_path / "pubmed"
    pubmed.mkdir()
    for name in ("pubmed26n1334_baseline_sample.xml.gz", "pubmed26n1335_updatefile_sample.xml.gz"):
        shutil.copy(SAMPLES_DIR / "pubmed" / name, pubmed)
    land_source(database, "pubmed", bulk_location=str(pubmed))
    build_links(database, ["clinicaltrials", "pubmed"])
    before = dict(query(database, "select nct_id, xmin::text from marts.clinical_trials"))

    (pubmed / "pubmed26n1340_trial_link_update.xml.gz").write_bytes(
        sample("pubmed/derived/pubmed26n1340_trial_link_update.xml.gz")
    )
    land_source(database, "pubmed", bulk_location=str(pubmed))
    build_links(database, ["pubmed"])  # what PubMed's refresh rebuilds

    after = dict(query(database, "select nct_id, xmin::text from marts.clinical_trials"))
    assert [nct_id for nct_id in after if after[nct_id] != before[nct_id]] == ["NCT04207047"]
    counts = "select nct_id, article_count from marts.clinical_trials order by nct_id"
    incremental = query(database, counts)
    assert ("NCT04207047", 1) in incremental
    assert query(
        database,
        "select link_method, is_trial_mirrored, is_article_mirrored, brief_title is not null, "
        "article_title is not null from marts.trial_articles "
        "where trial_article_id = 'NCT04207047-29768149'",
    ) == [("pubmed_databank", True, True, True, True)]
    assert query(
        database, "select trial_count from marts.pubmed_articles where pmid = '29768149'"
    ) == [(1,)]
    build_links(database, ["clinicaltrials", "pubmed"], full=True)
    assert query(database, counts) == incremental
