"""Label history: every landed version of a DailyMed label set with the sections that
changed from the version before, from the real SPL samples and later versions derived
from them (tests/fixtures/dailymed/PROVENANCE.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

from flows.dbt_runner import manifest_for, run_dbt
from tests.conftest import _admin_sql, land_source, query
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

VERSIONS = """
    select set_id, spl_version, previous_spl_version, has_boxed_warning, boxed_warning_change,
           added_section_codes, removed_section_codes, changed_section_codes,
           is_current_version
    from marts.drug_label_versions where set_id = %s order by spl_version
"""


def build_label_marts(connection, *, full: bool = False) -> None:
    """Build the label marts this file checks and what they read, with their tests (68
    nodes; a refresh of DailyMed builds everything it feeds: 191, the drug marts'
    own tests read them)."""
    run_dbt(
        ["build", "--select", "+drug_label_versions", "+drug_labels"]
        + (["--full-refresh"] if full else []),
        connection,
    )


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


def drug_label_contents(connection) -> dict[str, list[tuple]]:
    return {
        relation: query(connection, f"select * from {relation} order by 1")  # noqa: S608
        for relation in (
            "intermediate.int_dailymed_label_versions",
            "marts.drug_label_versions",
            "marts.drug_labels",
        )
    }


def test_incremental_build_rebuilds_only_the_changed_labels_and_equals_a_full_build(
    database, tmp_path: Path
):
    versions_sql = (
        "select label_version_id, xmin::text from intermediate.int_dailymed_label_versions"
    )
    # A declared full release of the real labels less one (METHOXSALEN, new later).
    january = release_set(tmp_path / "january", without=METHOXSALEN)
    land_source(database, "dailymed", bulk_location=str(january.parent), bulk_full_release=True)
    build_label_marts(database)
    built = dict(query(database, versions_sql))
    assert not any(version.startswith(METHOXSALEN) for version in built)

    # New label versions (Lipitor 12, HUMIRA 1561) and a new label (METHOXSALEN).
    new_label = tmp_path / "new_label"
    new_label.mkdir()
    (xml,) = [path for path in SAMPLES.glob("*.xml") if set_id_of(path) == METHOXSALEN]
    shutil.copy(xml, new_label / xml.name)
    land_source(database, "dailymed", bulk_location=str(DERIVED / "later_versions"))
    land_source(database, "dailymed", bulk_location=str(new_label))
    build_label_marts(database)
    after = dict(query(database, versions_sql))
    assert f"{LIPITOR}-12" in after and any(version.startswith(METHOXSALEN) for version in after)
    # The labels nothing landed for were not rebuilt.
    unchanged = [version for version in built if not version.startswith((LIPITOR, HUMIRA))]
    assert unchanged and all(after[version] == built[version] for version in unchanged)

    # The next full release no longer holds HUMIRA: withdrawn (a tombstone).
    february = release_set(tmp_path / "february", without=HUMIRA)
    land_source(database, "dailymed", bulk_location=str(february.parent), bulk_full_release=True)
    assert query(database, "select set_id from raw_dailymed.labels where deleted") == [(HUMIRA,)]
    build_label_marts(database)
    incremental = drug_label_contents(database)
    build_label_marts(database, full=True)

    assert incremental == drug_label_contents(database)
    labels = [row[0] for row in incremental["marts.drug_labels"]]
    assert HUMIRA not in labels and OTC in labels and LIPITOR in labels
    # METHOXSALEN's SPL indexes pharmacologic classes: a label version, not a drug label.
    assert METHOXSALEN in [row[1] for row in incremental["marts.drug_label_versions"]]


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
