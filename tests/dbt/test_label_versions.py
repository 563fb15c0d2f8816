"""Label history: every landed version of a DailyMed label set with the sections that
changed from the version before, from the real SPL samples and later versions derived
from them (tests/fixtures/dailymed/PROVENANCE.md)."""

from __future__ import annotations

from flows.dbt_runner import build_sources
from tests.conftest import land_source, query
from tests.extract.test_dailymed import DERIVED, HUMIRA, LIPITOR, SAMPLE_SET_IDS, SAMPLES

VERSIONS = """
    select set_id, spl_version, previous_spl_version, has_boxed_warning, boxed_warning_change,
           added_section_codes, removed_section_codes, changed_section_codes,
           is_current_version
    from marts.drug_label_versions where set_id = %s order by spl_version
"""


def test_every_version_with_the_sections_that_changed(database):
    land_source(database, "dailymed", bulk_location=str(SAMPLES))
    build_sources(database, ["dailymed"])
    assert query(database, "select set_id from marts.drug_label_versions order by 1") == [
        (set_id,) for set_id in SAMPLE_SET_IDS
    ]
    assert query(database, VERSIONS, HUMIRA) == [(HUMIRA, 1560, None, True, None, [], [], [], True)]

    # A later release (Lipitor 12, HUMIRA 1561 without a boxed warning), then an older
    # Lipitor version (10) landed last: versions are ordered by number, not by landing.
    land_source(database, "dailymed", bulk_location=str(DERIVED / "later_versions"))
    land_source(database, "dailymed", bulk_location=str(DERIVED / "older_lipitor"))
    build_sources(database, ["dailymed"])

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
