"""The raw landing contract: every raw table exists before anything lands, `dbt build` works
on any warehouse, and a record PostgreSQL cannot store is rejected, never stuck.

Real files throughout; the variants are derived in each test from a real sample (the
original is untouched, the test says what it changed)."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import orjson
import pytest

from extract.landing import LoadFailed
from flows.dbt_runner import build_sources
from flows.init import init_warehouse
from flows.sources import SOURCES, spec_of
from medmirror.settings import SAMPLES_DIR
from tests.conftest import WITH_SAMPLES, land_source, query


def test_a_fresh_warehouse_builds_every_model_and_test_with_a_plain_dbt_build(
    new_database, templates
):
    # A fresh warehouse after `medmirror init`: every raw table, no rows, no model yet.
    declared = {(spec.raw_schema, table.name) for spec in SOURCES.values() for table in spec.tables}
    found = set(
        query(
            new_database,
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'raw\\_%%'",
        )
    )
    assert declared <= found

    # That warehouse after a plain `dbt build` of every model and test (which raises on
    # any error or failing test) is the `tmpl_empty` template, built once per test run
    # (tests/conftest.py): building it a second time here would test nothing more.
    database = templates.fresh("tmpl_empty")

    marts = {spec_mart for spec in SOURCES.values() for spec_mart in spec.marts}
    for mart in sorted(marts):
        assert query(database, f"select count(*) from marts.{mart}") == [(0,)], mart  # noqa: S608


def test_init_adds_what_a_newer_release_declares_and_keeps_the_data(new_database):
    database = new_database  # no model built yet: nothing reads the raw columns
    land_source(database, "clinicaltrials", bulk_location=str(SAMPLES_DIR / "clinicaltrials"))
    # An older warehouse: its studies table lacks a column this release declares, and one
    # table is missing altogether.
    query_all(database, "alter table raw_clinicaltrials.studies drop column last_update_post_date")
    query_all(database, "drop table raw_faers.events")

    result = init_warehouse()

    assert result.created == {"faers": ["events"]}
    assert result.added_columns == {"clinicaltrials": {"studies": ["last_update_post_date"]}}
    assert any("source:clinicaltrials+" in note for note in result.upgrade_notes())
    assert query(database, "select count(*) from raw_clinicaltrials.studies") == [(19,)]
    assert init_warehouse().changed is False  # idempotent


# What each source fills on its own (the marts it feeds that need no other source: the
# drug links need trials or articles, the code changes a second release).
FILLED_ALONE = {
    "clinicaltrials": (
        "clinical_trials",
        "trial_conditions",
        "trial_interventions",
        "trial_locations",
        "trial_outcomes",
        "trial_articles",
    ),
    "orangebook": ("orange_book_products", "orange_book_patents", "orange_book_exclusivities"),
    "pubmed": ("pubmed_articles", "article_authors", "article_mesh_terms", "article_chemicals"),
    "dailymed": (
        "drugs",
        "drug_formulations",
        "drug_labels",
        "drug_profile",
        "drug_label_versions",
    ),
    "openfda": ("drugs", "drug_formulations", "drug_labels"),
    "faers": (
        "adverse_event_reports",
        "adverse_event_drugs",
        "adverse_event_reactions",
        "adverse_event_indications",
        "adverse_event_therapies",
        "drug_reaction_signals_by_quarter",
    ),
    "medlineplus": ("health_topics",),
    "fooddata": ("food_items", "food_nutrients"),
    "icd10cm": ("icd10cm_codes",),
    "hcpcs": ("hcpcs_codes",),
}


@pytest.mark.parametrize("source", WITH_SAMPLES)
def test_a_warehouse_with_only_one_source_landed_builds_and_fills_its_marts(
    samples_database, source
):
    # The template: `medmirror init`, this source's real samples landed, a plain
    # `dbt build` of every model and test (it raised if anything failed).
    database = samples_database(source)

    for mart in spec_of(source).marts:  # every mart it feeds is built, empty or not
        assert query(database, "select to_regclass(%s) is not null", f"marts.{mart}") == [(True,)]
    for mart in FILLED_ALONE.get(source, spec_of(source).marts[:1]):
        ((rows,),) = query(database, f"select count(*) from marts.{mart}")  # noqa: S608
        assert rows > 0, f"{source} alone leaves marts.{mart} empty"


def test_dailymed_labels_without_an_indexing_spl_build_the_drug_marts(database, tmp_path):
    # Most DailyMed release parts hold labels only: the samples without the indexing SPL.
    release = tmp_path / "labels-only"
    shutil.copytree(SAMPLES_DIR / "dailymed", release)
    (release / "spl_indexing_pharmclass_methoxsalen.xml").unlink()

    land_source(database, "dailymed", bulk_location=str(release))
    build_sources(database, ["dailymed"])  # what a refresh builds

    assert query(database, "select count(*) from raw_dailymed.pharmacologic_classes") == [(0,)]
    ((drugs,),) = query(database, "select count(*) from marts.drugs")
    assert drugs > 0
    assert query(
        database, "select count(*) from marts.drugs where generic_name ilike '%%atorvastatin%%'"
    ) == [(1,)]


# -- records PostgreSQL cannot store -------------------------------------------------------


def test_a_study_with_a_nul_in_its_title_is_rejected_and_the_others_land(database, tmp_path):
    # Derived from the real samples: NCT03475563's brief title gets a NUL character
    # (written by the JSON encoder as \u0000, which jsonb refuses).
    release = tmp_path / "release"
    shutil.copytree(SAMPLES_DIR / "clinicaltrials", release)
    bad = release / "study_NCT03475563.json"
    study = orjson.loads(bad.read_bytes())
    identification = study["protocolSection"]["identificationModule"]
    identification["briefTitle"] = "Growth\u0000hormone"
    bad.write_bytes(orjson.dumps(study))

    result = land_source(database, "clinicaltrials", bulk_location=str(release))

    assert result.rejected == 1
    ((uri, problem, position),) = query(
        database, "select source_uri, problem, position from raw_clinicaltrials.rejects"
    )
    assert uri == str(bad)
    assert "NUL character" in problem and "jsonb cannot hold it" in problem
    assert position.startswith("nct_id=NCT03475563")
    assert query(database, "select count(distinct nct_id) from raw_clinicaltrials.studies") == [
        (18,)
    ]

    # The next run, with the study fixed by its publisher, lands it: nothing is stuck.
    shutil.copy(SAMPLES_DIR / "clinicaltrials" / bad.name, bad)
    again = land_source(database, "clinicaltrials", bulk_location=str(release))

    assert again.rejected == 0
    assert query(
        database,
        "select count(*) from raw_clinicaltrials.studies where nct_id = 'NCT03475563'",
    ) == [(1,)]


def test_a_faers_line_with_a_nul_byte_is_rejected_and_the_rest_of_the_quarter_lands(
    database, tmp_path
):
    # Derived from the real 2017Q2 subset: a NUL byte inside the drug name of case
    # 10979236's first DRUG line (RISPERDAL -> RISPER\x00DAL); every other byte unchanged.
    original = SAMPLES_DIR / "faers" / "faers_ascii_2017q2_subset.zip"
    derived = tmp_path / "faers_ascii_2017q2_subset.zip"
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(derived, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("DRUG17Q2.txt"):
                data = data.replace(b"$RISPERDAL$RISPERIDONE$", b"$RISPER\x00DAL$RISPERIDONE$", 1)
            target.writestr(info, data)

    result = land_source(database, "faers", bulk_location=str(derived))

    assert result.rejected == 1
    ((uri, problem, position),) = query(
        database, "select source_uri, problem, position from raw_faers.rejects"
    )
    assert uri == f"{derived}!ascii/DRUG17Q2.txt"
    assert "NUL character" in problem
    assert "primaryid=109792364" in position
    assert query(database, "select count(*) from raw_faers.drug") == [(327,)]
    assert query(database, "select count(*) from raw_faers.demo") == [(100,)]

    later = land_source(database, "faers", bulk_location=str(Path("tests/fixtures/faers/derived")))
    assert later.rows.get("demo", 0) > 0  # the next quarter lands: nothing is stuck
    build_sources(database, ["faers"])


def test_a_two_megabyte_abstract_lands_in_full_and_its_search_vector_holds_a_prefix(
    database, tmp_path
):
    # Derived from the real baseline sample: article 41576697's abstract repeated until
    # it is over 2 MB (the rest of the file unchanged).
    original = SAMPLES_DIR / "pubmed" / "pubmed26n1334_baseline_sample.xml.gz"
    text = gzip.decompress(original.read_bytes()).decode()
    start = text.index('<PMID Version="1">41576697</PMID>')
    opening = text.index("<AbstractText", start)
    body_start = text.index(">", opening) + 1
    body_end = text.index("</AbstractText>", body_start)
    sentence = text[body_start:body_end].strip() + " "
    long_abstract = sentence * (2_100_000 // len(sentence) + 1)
    derived = tmp_path / "pubmed26n1334_baseline_sample.xml.gz"
    derived.write_bytes(
        gzip.compress((text[:body_start] + long_abstract + text[body_end:]).encode())
    )

    land_source(database, "pubmed", bulk_location=str(derived))
    build_sources(database, ["pubmed"])

    ((length, lexemes),) = query(
        database,
        "select length(abstract), length(search_vector) from marts.pubmed_articles "
        "where pmid = '41576697'",
    )
    assert length >= 2_000_000  # the full text stays in the mart
    assert lexemes > 0
    words = sentence.split()[:3]
    hits = query(
        database,
        "select pmid from marts.search_pubmed_articles(%s, 5)",
        " ".join(word.strip(".,;:()") for word in words),
    )
    assert ("41576697",) in hits


def test_a_package_the_warehouse_refuses_is_rolled_back_and_the_next_run_lands(database):
    # A refusal the checks cannot foresee: a constraint PostgreSQL enforces at load time.
    query_all(
        database,
        "alter table raw_clinicaltrials.studies "
        "add constraint refuse_one check (nct_id <> 'NCT03475563')",
    )

    with pytest.raises(LoadFailed, match="the warehouse refused it") as failed:
        land_source(database, "clinicaltrials", bulk_location=str(SAMPLES_DIR / "clinicaltrials"))

    assert "clinicaltrials" in str(failed.value)
    assert query(database, "select count(*) from raw_clinicaltrials.studies") == [(0,)]
    query_all(database, "alter table raw_clinicaltrials.studies drop constraint refuse_one")

    again = land_source(
        database, "clinicaltrials", bulk_location=str(SAMPLES_DIR / "clinicaltrials")
    )

    assert again.rows == {"studies": 19}
    assert query(database, "select count(*) from raw_clinicaltrials.studies") == [(19,)]


def query_all(connection, statement: str) -> None:
    conn = connection.connect()
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()
