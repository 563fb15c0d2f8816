"""Schema drift: staging keeps building when a publisher adds, renames or retypes a field,
and `medmirror drift` says what changed. What staging reads comes from dbt's compiled SQL
(flows/staging_reads.py). Variants of a real study are derived in code."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from extract.clinicaltrials.helpers import STUDIES
from flows.dbt_runner import build_sources
from flows.drift import EMPTY, UNTYPABLE, DriftReport, drift_report, render
from flows.sources import SOURCES
from flows.staging_reads import compiled_staging, staging_reads
from medmirror.settings import SAMPLES_DIR, ConnectionInfo
from tests.conftest import land_source, query, template_from_empty
from tests.test_cli import medmirror
from tests.warehouses import Templates

ORIGINAL = SAMPLES_DIR / "clinicaltrials" / "study_NCT03475563.json"  # kept unchanged
CLINICALTRIALS = SOURCES["clinicaltrials"]

NEW_FIELD = "protocolSection.statusModule.newStatusField"
BRIEF_TITLE = "protocolSection.identificationModule.briefTitle"
BRIEF_TITLE_RENAMED = "protocolSection.identificationModule.briefTitleText"
ENROLLMENT_COUNT = "protocolSection.designModule.enrollmentInfo.count"
HAS_RESULTS = "hasResults"
NCT_ID = "protocolSection.identificationModule.nctId"


def with_new_field(study: dict) -> None:
    """Derived: the publisher adds `statusModule.newStatusField` (a string)."""
    study["protocolSection"]["statusModule"]["newStatusField"] = "VERIFIED_BY_SPONSOR"


def with_brief_title_renamed(study: dict) -> None:
    """Derived: `identificationModule.briefTitle` renamed `briefTitleText`, same value."""
    identification = study["protocolSection"]["identificationModule"]
    identification["briefTitleText"] = identification.pop("briefTitle")


def with_enrollment_count_as_words(study: dict) -> None:
    """Derived: `enrollmentInfo.count` changes type, the number 100 -> "thirty-one"."""
    study["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = "thirty-one"


def with_has_results_as_words(study: dict) -> None:
    """Derived: top-level `hasResults` changes type, the boolean false -> "not yet"."""
    study["hasResults"] = "not yet"


def derived_release(folder: Path, change: Callable[[dict], None]) -> Path:
    """A bulk release folder holding one variant of the real study (the original stays)."""
    study = json.loads(ORIGINAL.read_bytes())
    change(study)
    folder.mkdir()
    (folder / f"study_NCT03475563_derived_{change.__name__}.json").write_text(
        json.dumps(study, indent=2)
    )
    return folder


def build(connection) -> None:
    """Staging and everything it feeds; raises (fails the test) if any model or test fails."""
    result = build_sources(connection, ["clinicaltrials"])
    assert result.success


@pytest.fixture
def drifted(
    database, templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Callable[[dict], None]], ConnectionInfo]:
    """`drifted(change)`: the worker's database with the variant `change` makes of the
    real study landed alone and everything it feeds built (each variant landed and built
    once per run, copied for every test that reads it)."""

    def make(change: Callable[[dict], None]) -> ConnectionInfo:
        def fill(connection: ConnectionInfo) -> None:
            folder = tmp_path_factory.mktemp("drift") / "r"
            land_source(
                connection, "clinicaltrials", bulk_location=str(derived_release(folder, change))
            )
            build(connection)  # the staging view and the marts still build

        return templates.fresh(
            template_from_empty(templates, f"tmpl_drift_{change.__name__}", fill)
        )

    return make


def findings(report: DriftReport) -> dict[str, set[str]]:
    return {
        "unread": set(report.unread_paths),
        EMPTY: set(report.empty_paths),
        UNTYPABLE: set(report.untypable_paths),
    }


# The finding each derived variant must produce, and only that one of the four.
EXPECTED = {
    with_new_field: ("unread", NEW_FIELD),
    with_brief_title_renamed: (EMPTY, BRIEF_TITLE),
    with_enrollment_count_as_words: (UNTYPABLE, ENROLLMENT_COUNT),
    with_has_results_as_words: (UNTYPABLE, HAS_RESULTS),
}
ALL_FINDINGS = set(EXPECTED.values())


@pytest.mark.parametrize("change", list(EXPECTED), ids=lambda change: change.__name__)
def test_staging_builds_through_drift_and_the_report_names_it(
    drifted, change: Callable[[dict], None]
):
    database = drifted(change)  # landed, and staging and the marts still build

    report = drift_report(CLINICALTRIALS, database)

    assert report.records == 1
    assert report.staging_checked == ["staging.stg_clinicaltrials__studies"]
    found = findings(report)
    kind, path = EXPECTED[change]
    assert path in found[kind]
    others = ALL_FINDINGS - {EXPECTED[change]}
    assert not [(kind, path) for kind, path in others if path in found[kind]]


def test_a_renamed_field_is_empty_under_its_old_name_and_unread_under_the_new(drifted):
    database = drifted(with_brief_title_renamed)

    report = drift_report(CLINICALTRIALS, database)

    (empty,) = [item for item in report.problems if item.path == BRIEF_TITLE]
    assert (empty.column, empty.records_with_value) == ("brief_title", 0)
    assert BRIEF_TITLE_RENAMED in report.unread_paths
    assert query(database, "select brief_title from marts.clinical_trials") == [(None,)]


def test_an_untypable_value_is_null_in_staging_and_shown_as_landed(drifted):
    database = drifted(with_enrollment_count_as_words)

    report = drift_report(CLINICALTRIALS, database)

    (untypable,) = [item for item in report.problems if item.problem == UNTYPABLE]
    assert (untypable.path, untypable.column) == (ENROLLMENT_COUNT, "enrollment_count")
    assert (untypable.records_with_value, untypable.example) == (1, "thirty-one")
    # Only the retyped column is null: the rest of the row is typed as before.
    assert query(
        database,
        "select enrollment_count, has_results, brief_title "
        "from staging.stg_clinicaltrials__studies",
    ) == [(None, False, "BiOSS Study (BiOSS LIM C Stent Registry in Bifurcated Lesions)")]


def test_the_unchanged_real_samples_show_none_of_these_findings(samples_database):
    database = samples_database("clinicaltrials")  # the real studies landed and built

    report = drift_report(CLINICALTRIALS, database)

    assert report.records == 19
    found = findings(report)
    assert not [(kind, path) for kind, path in ALL_FINDINGS if path in found[kind]]
    assert BRIEF_TITLE_RENAMED not in found["unread"]
    assert found[UNTYPABLE] == set()  # every value the real samples carry is typed
    # What staging does not read is reported at its top: a whole unread section once.
    assert "derivedSection" in found["unread"]
    assert not [path for path in found["unread"] if path.startswith("derivedSection.")]
    # The study's id and update date land as the raw table's own columns, which staging
    # reads: they are read, not "unread".
    for key in (NCT_ID, "protocolSection.statusModule.lastUpdatePostDateStruct.date"):
        assert key not in found["unread"]
        assert key not in found[EMPTY]
    assert "protocolSection.identificationModule.organization" in found["unread"]


def test_recent_records_are_the_newest_landed(database, tmp_path: Path):
    """The original study lands first, the variant without `briefTitle` later: only the
    newest record counts when the report looks at one."""
    original = tmp_path / "original"
    original.mkdir()
    (original / ORIGINAL.name).write_bytes(ORIGINAL.read_bytes())
    land_source(database, "clinicaltrials", bulk_location=str(original))
    release = derived_release(tmp_path / "r", with_brief_title_renamed)
    land_source(database, "clinicaltrials", bulk_location=str(release))

    assert BRIEF_TITLE not in drift_report(CLINICALTRIALS, database).empty_paths
    assert BRIEF_TITLE in drift_report(CLINICALTRIALS, database, recent=1).empty_paths


def test_staging_reads_are_found_in_the_compiled_sql_with_their_columns(database):
    (model,) = [
        model
        for model in compiled_staging(database).values()
        if (CLINICALTRIALS.name, "studies") in model.sources
    ]
    reads = {
        ".".join(read.path): read.column
        for read in staging_reads(model.sql, model.name, STUDIES.record_paths)
    }

    assert reads[BRIEF_TITLE] == "brief_title"
    assert reads[ENROLLMENT_COUNT] == "enrollment_count"  # inside a macro call
    assert reads[HAS_RESULTS] == "has_results"  # `->>`, the last item before `from`
    assert reads["protocolSection.statusModule.startDateStruct.date"] == "start_date"
    assert reads["protocolSection.armsInterventionsModule.interventions"] == "interventions"
    assert reads[NCT_ID] == "nct_id"  # the raw key column the extract fills from it


def test_a_record_read_through_an_alias_and_a_macro_is_a_read():
    # As dbt compiles stg_fooddata__foods: the record decompressed once (`detoast`) and
    # read as `parsed`; a path in it named `category` and read further.
    compiled = """
        with source as (select * from "db"."raw_fooddata"."foods"),
        documents as (
            select source.*, document.record as parsed
            from source
            cross join lateral (select source.record || '{}'::jsonb as record offset 0)
                as document
        ),
        renamed as (
            select
                fdc_id,
                parsed ->> 'description' as description,
                parsed -> 'foodCategory' as category,
                coalesce(parsed -> 'foodNutrients', '[]'::jsonb) as nutrients
            from documents
            where parsed #>> '{labelNutrients,calories,value}' is not null
        )
        select *, category ->> 'description' as category_name from renamed
    """

    reads = staging_reads(compiled, "stg_fooddata__foods", [("fdc_id", "fdcId")])

    assert {(render(read.path), read.column) for read in reads} == {
        ("description", "description"),
        ("foodCategory", "category"),
        ("foodCategory.description", "category_name"),
        ("foodNutrients", "nutrients"),
        ("labelNutrients.calories.value", None),  # a filter feeds no column
        ("fdcId", "fdc_id"),
    }


@pytest.mark.parametrize(
    ("source", "key"),
    [("pubmed", "pmid"), ("dailymed", "set_id"), ("fooddata", "fdcId"), ("medlineplus", "id")],
)
def test_a_key_landed_as_a_raw_column_is_read(samples_database, source, key):
    database = samples_database(source)

    report = drift_report(SOURCES[source], database)

    assert report.records > 0
    assert key in {render(read.path) for read in report.reads}
    assert key not in report.unread_paths
    assert key not in report.empty_paths


@pytest.mark.parametrize(
    ("source", "view", "field"),
    [
        ("fooddata", "stg_fooddata__foods", "description"),
        ("medlineplus", "stg_medlineplus__health_topics", "title"),
    ],
)
def test_staging_reading_the_record_through_an_alias_is_compared(
    samples_database, source, view, field
):
    # Both read `record` decompressed once, as `parsed` (the `detoast` macro).
    database = samples_database(source)

    report = drift_report(SOURCES[source], database)

    assert report.staging_checked == [f"staging.{view}"]
    assert field in {render(read.path) for read in report.reads}
    assert field not in report.unread_paths
    assert report.untypable_paths == []  # the real samples type


def test_drift_command_names_the_new_field(database, tmp_path: Path):
    release = derived_release(tmp_path / "r", with_new_field)
    land_source(database, "clinicaltrials", bulk_location=str(release))

    result = medmirror("drift", "--source", "clinicaltrials")

    assert result.returncode == 0, result.stderr
    assert NEW_FIELD in result.stdout
    assert "landed fields staging does not read" in result.stdout
    assert "staging views: staging.stg_clinicaltrials__studies" in result.stdout

    unknown = medmirror("drift", "--source", "nosuchsource")
    assert unknown.returncode == 1
    assert "unknown source 'nosuchsource'" in unknown.stderr
