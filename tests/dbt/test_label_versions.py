"""Label history: every landed version of a DailyMed label set with the sections that
changed from the version before, from the real SPL samples and later versions derived
from them (tests/fixtures/dailymed/PROVENANCE.md)."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import pytest

from flows.dbt_runner import DbtFailed, manifest_for, run_dbt
from tests.conftest import _admin_sql, build_models, land_source, query
from tests.extract.test_dailymed import (
    DERIVED,
    HUMIRA,
    LIPITOR,
    METHOXSALEN,
    OTC,
    SAMPLE_SET_IDS,
    SAMPLES,
    set_id_of,
)
from tests.extract.test_tombstones import release_set

VERSIONS_TABLE = "intermediate.int_dailymed_label_versions"
VERSIONS = """
    select set_id, spl_version, previous_spl_version, has_boxed_warning, boxed_warning_change,
           added_section_codes, removed_section_codes, changed_section_codes,
           is_current_version
    from marts.drug_label_versions where set_id = %s order by spl_version
"""


def build_label_marts(connection, *, full: bool = False) -> None:
    """Build the label marts this file checks, what DailyMed and openFDA feed on the way
    and their tests (67 nodes; a refresh of DailyMed builds everything it feeds, 180: the
    drug marts' own tests read them)."""
    sources = ["dailymed", "openfda"]
    build_models(connection, "drug_label_versions", "drug_labels", sources=sources, full=full)


def test_every_version_with_the_sections_that_changed(database):
    land_source(database, "dailymed", bulk_location=str(SAMPLES))
    build_label_marts(database)
    assert query(database, "select set_id from marts.drug_label_versions order by 1") == [
        (set_id,) for set_id in SAMPLE_SET_IDS
    ]
    assert query(database, VERSIONS, HUMIRA) == [(HUMIRA, 1560, None, True, None, [], [], [], True)]

    # A later release (Lipitor 12, HUMIRA 1561 without a boxed warning), then an older
    # Lipitor version (10) landed last: versions are ordered by number, not by landing.
    land_source(database, "dailymed", bulk_location=str(DERIVED / "later_versions"))
    land_source(database, "dailymed", bulk_location=str(DERIVED / "older_lipitor"))
    build_label_marts(database)

    assert query(database, VERSIONS, LIPITOR) == [
        (LIPITOR, 10, None, False, None, [], [], [], False),
        (LIPITOR, 11, 10, False, None, [], [], [], False),  # the same sections as 10
        (LIPITOR, 12, 11, False, None, [], [], ["34070-3"], True),  # contraindications
    ]
    assert query(database, VERSIONS, HUMIRA)[1] == (
        HUMIRA, 1561, 1560, False, "removed", ["42229-5"], ["34066-1"], [], True
    )  # its text stays, coded as an unclassified section  # fmt: skip
    assert query(
        database,
        "select changed_section_names from marts.drug_label_versions where label_version_id = %s",
        f"{LIPITOR}-12",
    ) == [(["CONTRAINDICATIONS SECTION"],)]


# openFDA bulk partitions built from FDA's documented examples
# (tests/fixtures/openfda/PROVENANCE.md): part 1 holds version 2 of openFDA's sample label
# and the NDC sample's SPL (methoxsalen) as a label, part 2 version 3 of the sample label.
OPENFDA_PARTITIONS = Path(__file__).parents[1] / "fixtures" / "openfda" / "derived" / "partitions"
OPENFDA_SAMPLE = "e71151ba-f2f4-4e95-9256-3db361d40a54"
OPENFDA_METHOXSALEN = "28cdcef9-0623-4c5a-bd18-aa3d2a3d40f8"
METHOXSALEN_UNII = "U4VJ29L7BQ"

# The models an incremental build must leave as a full build would make them.
COMPARED = {
    "intermediate.int_dailymed_label_versions": "label_version_id",
    "marts.drug_label_versions": "label_version_id",
    "intermediate.int_drug_label_sections": "source || ':' || set_id",
    "marts.drug_labels": "set_id",
}


def drug_label_contents(connection) -> dict[str, list[tuple]]:
    return {
        relation: query(connection, f"select * from {relation} order by {key}")  # noqa: S608
        for relation, key in COMPARED.items()
    }


def row_versions(connection) -> dict[str, dict[str, str]]:
    """Each compared table's rows by key, with the transaction that wrote them (`xmin`)."""
    return {
        relation: dict(query(connection, f"select {key}, xmin::text from {relation}"))  # noqa: S608
        for relation, key in COMPARED.items()
    }


def rewritten(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]) -> dict:
    """The keys each table wrote, or dropped, between two `row_versions`."""
    return {
        relation: {
            key
            for key in before[relation].keys() | after[relation].keys()
            if before[relation].get(key) != after[relation].get(key)
        }
        for relation in before
    }


def assert_incremental_equals_full(connection) -> dict[str, list[tuple]]:
    """The label marts as the incremental build left them equal those a full build of
    them makes from the same upstream (after which the next build is incremental again)."""
    incremental = drug_label_contents(connection)
    run_dbt(
        ["run", "--full-refresh", "--select", "int_drug_label_drugs_aggregated"]
        + [relation.split(".")[1] for relation in COMPARED],
        connection,
    )
    assert incremental == drug_label_contents(connection)
    return incremental


def labels_of(contents: dict[str, list[tuple]]) -> list[str]:
    return [row[0] for row in contents["marts.drug_labels"]]


def drug_id(ingredient_key: str) -> str:
    """The drug key of an ingredient key (macros/drug_id.sql)."""
    return hashlib.md5(ingredient_key.encode()).hexdigest()[:16]


def drug_ids_of(connection, set_id: str) -> list[str]:
    (row,) = query(connection, "select drug_ids from marts.drug_labels where set_id = %s", set_id)
    return row[0]


def one_label_folder(folder: Path, set_id: str) -> Path:
    """A folder holding the real SPL of `set_id` alone."""
    folder.mkdir()
    (xml,) = [path for path in SAMPLES.glob("*.xml") if set_id_of(path) == set_id]
    shutil.copy(xml, folder / xml.name)
    return folder


def one_partition_folder(folder: Path, part: int) -> Path:
    """A folder holding openFDA's label partition `part` (of 2) alone."""
    folder.mkdir()
    name = f"drug-label-000{part}-of-0002.json.zip"
    shutil.copy(OPENFDA_PARTITIONS / name, folder / name)
    return folder


def test_incremental_build_rebuilds_only_the_changed_labels_and_equals_a_full_build(
    database, tmp_path: Path
):
    # A declared full release of the real labels less two (OTC and METHOXSALEN land
    # later), and openFDA's part 1.
    january = release_set(tmp_path / "january", without=(OTC, METHOXSALEN))
    land_source(database, "dailymed", bulk_location=str(january.parent), bulk_full_release=True)
    openfda_part_1 = one_partition_folder(tmp_path / "openfda-1", 1)
    land_source(database, "openfda", bulk_location=str(openfda_part_1))
    build_label_marts(database)
    built = row_versions(database)
    assert not any(version.startswith(METHOXSALEN) for version in built[VERSIONS_TABLE])
    assert {OPENFDA_SAMPLE, OPENFDA_METHOXSALEN} <= built["marts.drug_labels"].keys()

    # New label versions (Lipitor 12, HUMIRA 1561) and a new drug label (OTC).
    land_source(database, "dailymed", bulk_location=str(DERIVED / "later_versions"))
    land_source(database, "dailymed", bulk_location=str(one_label_folder(tmp_path / "otc", OTC)))
    build_label_marts(database)
    after = row_versions(database)
    assert f"{LIPITOR}-12" in after[VERSIONS_TABLE] and OTC in after["marts.drug_labels"]
    # Only the labels something landed for were rebuilt.
    changed = rewritten(built, after)
    assert changed["marts.drug_labels"] == {LIPITOR, HUMIRA, OTC}
    assert changed["intermediate.int_drug_label_sections"] == {
        f"dailymed:{set_id}" for set_id in (LIPITOR, HUMIRA, OTC)
    }
    assert {version.rsplit("-", 1)[0] for version in changed[VERSIONS_TABLE]} == {
        LIPITOR, HUMIRA, OTC
    }  # fmt: skip
    assert_incremental_equals_full(database)

    # The drugs of a label change with nothing landing for it: FDA's pharmacologic-class
    # indexing SPL of methoxsalen (not a drug label) lands, and the openFDA methoxsalen
    # label, known by its substance name so far, is now linked by the moiety's UNII.
    named_only = drug_ids_of(database, OPENFDA_METHOXSALEN)
    before = row_versions(database)
    land_source(
        database,
        "dailymed",
        bulk_location=str(one_label_folder(tmp_path / "indexing", METHOXSALEN)),
    )
    build_label_marts(database)
    assert drug_ids_of(database, OPENFDA_METHOXSALEN) == [drug_id(METHOXSALEN_UNII)] != named_only
    changed = rewritten(before, row_versions(database))
    assert changed["marts.drug_labels"] == {OPENFDA_METHOXSALEN}
    assert changed["intermediate.int_drug_label_sections"] == set()
    assert_incremental_equals_full(database)

    # openFDA alone lands a later version of its sample label (part 2).
    before = row_versions(database)
    openfda_part_2 = one_partition_folder(tmp_path / "openfda-2", 2)
    land_source(database, "openfda", bulk_location=str(openfda_part_2))
    build_label_marts(database)
    changed = rewritten(before, row_versions(database))
    assert changed["marts.drug_labels"] == {OPENFDA_SAMPLE}
    assert changed["intermediate.int_drug_label_sections"] == {f"openfda:{OPENFDA_SAMPLE}"}
    assert query(
        database, "select version_number from marts.drug_labels where set_id = %s", OPENFDA_SAMPLE
    ) == [(3,)]
    assert_incremental_equals_full(database)

    # The next full release no longer holds HUMIRA: withdrawn (a tombstone).
    february = release_set(tmp_path / "february", without=HUMIRA)
    land_source(database, "dailymed", bulk_location=str(february.parent), bulk_full_release=True)
    assert query(database, "select set_id from raw_dailymed.labels where deleted") == [(HUMIRA,)]
    build_label_marts(database)
    incremental = assert_incremental_equals_full(database)
    assert HUMIRA not in labels_of(incremental) and {OTC, LIPITOR} <= set(labels_of(incremental))
    assert HUMIRA not in [row[1] for row in incremental["intermediate.int_drug_label_sections"]]
    # METHOXSALEN's SPL indexes pharmacologic classes: a label version, not a drug label.
    assert METHOXSALEN in [row[1] for row in incremental["marts.drug_label_versions"]]
    assert METHOXSALEN not in labels_of(incremental)


def test_a_table_built_before_the_model_was_incremental_is_rebuilt_in_full(samples_database):
    """An upgraded warehouse holds the table the previous, non-incremental model built:
    no `last_landed_at`, which the incremental build's hooks read. A plain build rebuilds
    it in full (should_full_refresh.sql), then builds it incrementally again."""
    database = samples_database("dailymed")
    versions_sql = (
        "select label_version_id, xmin::text from intermediate.int_dailymed_label_versions"
    )
    for statement in (
        "alter table intermediate.int_dailymed_label_versions drop column last_landed_at",
        # A version the old build lacks: the rebuild must not keep the old rows.
        f"delete from intermediate.int_dailymed_label_versions where set_id = '{HUMIRA}'",  # noqa: S608
    ):
        _admin_sql(database, statement)

    build_label_marts(database)
    upgraded = drug_label_contents(database)
    assert HUMIRA in [row[1] for row in upgraded["intermediate.int_dailymed_label_versions"]]
    rebuilt = dict(query(database, versions_sql))
    build_label_marts(database)
    assert dict(query(database, versions_sql)) == rebuilt  # incremental: nothing rebuilt
    build_label_marts(database, full=True)
    assert drug_label_contents(database) == upgraded


def test_every_incremental_model_has_the_columns_its_documentation_lists(database):
    """should_full_refresh.sql rebuilds an incremental model whose table lacks a
    documented column: one documented but never built would rebuild it on every run, and
    an undocumented watermark (`last_landed_at`, which an incremental build reads from
    its own table) would not rebuild a table built without it."""
    built = set(
        query(
            database,
            "select table_schema, table_name, column_name from information_schema.columns",
        )
    )
    models = [
        node
        for node in manifest_for(database).nodes.values()
        if node.resource_type == "model" and node.config.materialized == "incremental"
    ]
    assert len(models) > 10
    assert [
        f"{node.name}.{column}"
        for node in models
        for column in node.columns
        if (node.schema, node.alias or node.name, column.lower()) not in built
    ] == []
    assert [
        node.name
        for node in models
        if (node.schema, node.alias or node.name, "last_landed_at") in built
        and "last_landed_at" not in node.columns
    ] == []


def land_lipitor_without_a_section_position(connection, load_id: str) -> None:
    """A landing DERIVED from the real Lipitor row (the same document again, its first
    section without a position) in load `load_id`: what the not-null test must catch."""
    _admin_sql(
        connection,
        f"""
        insert into raw_dailymed.labels
            (set_id, version, record, source_uri, deleted, _dlt_load_id, _dlt_id)
        select
            set_id, version, jsonb_set(record, '{{sections,0,position}}', 'null'),
            source_uri, deleted, '{load_id}', 'derived-without-position'
        from raw_dailymed.labels
        where set_id = '{LIPITOR}' and not deleted
        order by _dlt_load_id
        limit 1
        """,  # noqa: S608 - constants
    )


def test_the_staging_tests_of_a_build_check_the_loads_landed_since_the_last_one(
    samples_database,
):
    """The data tests on the DailyMed staging views check, in `dbt build`, the rows
    landed after the last build of the model that reads them (untested_landings.sql): a
    broken row in a new load fails the build, and the next build too (that model stays
    unbuilt); `dbt test` checks every row."""
    database = samples_database("dailymed")
    land_lipitor_without_a_section_position(database, f"{time.time():.6f}")
    for _ in range(2):
        with pytest.raises(DbtFailed, match="not_null_columns_stg_dailymed__sections"):
            build_label_marts(database)

    derived = "delete from raw_dailymed.labels where _dlt_id = 'derived-without-position'"
    _admin_sql(database, derived)
    build_label_marts(database)
    # The same row in a load the last build saw (which raw never gets: a landed load
    # does not change) is not checked by a build again, and is by `dbt test`.
    (oldest,) = query(database, "select min(_dlt_load_id) from raw_dailymed.labels")[0]
    land_lipitor_without_a_section_position(database, oldest)
    build_label_marts(database)
    with pytest.raises(DbtFailed, match="not_null_columns_stg_dailymed__sections"):
        run_dbt(["test", "--select", "stg_dailymed__sections"], database)
