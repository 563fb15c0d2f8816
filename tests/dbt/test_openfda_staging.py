"""openFDA staging and intermediate models: real dbt on what the real extract landed
from the constructed partitions (tests/fixtures/openfda/derived/partitions) and the
demo's bundled sample."""

from __future__ import annotations

from datetime import date

from medmirror.settings import SAMPLES_DIR
from tests.conftest import build_models, land_source, query
from tests.extract.test_openfda import (
    METHOXSALEN_SET_ID,
    PARTITIONS,
    REAL_SET_ID,
    documented_label_partition,
)


def build(connection) -> None:
    """openFDA's staging and intermediate models and its data-quality checks, with their
    tests (the marts openFDA feeds have tests of their own)."""
    build_models(
        connection,
        "int_openfda_labels_current",
        "int_openfda_ndc_current",
        "openfda_data_quality",
        sources=["openfda"],
    )


def test_staging_types_the_records_and_intermediate_keeps_the_current_versions(database):
    land_source(database, "openfda", bulk_location=str(PARTITIONS))
    land_source(database, "openfda", bulk_location=str(PARTITIONS))  # a rerun changes nothing

    build(database)  # runs the models' tests too: it raises if one fails

    assert query(database, "select count(*) from staging.stg_openfda__labels") == [(3,)]
    assert query(
        database,
        "select set_id, version_number, spl_id, effective_date "
        "from intermediate.int_openfda_labels_current order by set_id",
    ) == [
        (METHOXSALEN_SET_ID, 5, "12b39571-f883-4a2a-a909-aef528d77d0a", date(2014, 7, 15)),
        (REAL_SET_ID, 3, "93321bf0-d58d-4ac1-bfa7-cb033ca9df86", date(2015, 1, 10)),
    ]
    ((adverse, boxed, brands, ndcs, epc, pregnancy),) = query(
        database,
        "select adverse_reactions, boxed_warning, brand_names, product_ndcs, "
        "pharm_classes_epc, pregnancy "
        "from intermediate.int_openfda_labels_current where set_id = %s",
        METHOXSALEN_SET_ID,
    )
    # A section's paragraphs become one text, one paragraph per line.
    assert adverse == (
        "ADVERSE REACTIONS Constructed example text for Methoxsalen.\n"
        "A second paragraph of the same section."
    )
    assert boxed == "WARNING: constructed boxed warning for Methoxsalen."
    assert brands == ["Methoxsalen"] and ndcs == ["68682-065"]
    assert epc == ["Psoralen [EPC]", "Photoactivated Radical Generator [EPC]"]
    assert pregnancy.startswith("PREGNANCY")
    assert query(
        database,
        "select count(*) from intermediate.int_openfda_labels_current "
        "where warnings is not null or lactation is not null",
    ) == [(0,)]  # sections a label does not have are null

    # NDC: three listings of two products; one row per package; the current listing of
    # 68682-065 is the one certified through 2019.
    assert query(
        database,
        "select product_ndc, package_ndc, description, marketing_start_date, is_sample "
        "from staging.stg_openfda__ndc_packages order by product_id, package_position",
    ) == [
        (
            "68682-065",
            "68682-065-10",
            "50 CAPSULE, LIQUID FILLED in 1 BOTTLE, PLASTIC (68682-065-10) ",
            date(2014, 7, 15),
            False,
        ),
        (
            "68682-065",
            "68682-065-10",
            "50 CAPSULE, LIQUID FILLED in 1 BOTTLE, PLASTIC (68682-065-10) ",
            date(2014, 7, 15),
            False,
        ),
        (
            "68682-066",
            "68682-066-10",
            "30 CAPSULE, LIQUID FILLED in 1 BOTTLE, PLASTIC (68682-066-10) ",
            date(2014, 7, 15),
            False,
        ),
        (
            "68682-066",
            "68682-066-30",
            "90 CAPSULE, LIQUID FILLED in 1 BOTTLE, PLASTIC (68682-066-30) ",
            date(2015, 1, 1),
            False,
        ),
    ]
    assert query(
        database,
        "select product_ndc, product_id, listing_expiration_date, is_listing_expired, "
        "brand_name, labeler_name, active_ingredient_names, routes, is_finished, "
        "marketing_start_date, package_count "
        "from intermediate.int_openfda_ndc_current order by product_ndc",
    ) == [
        (
            "68682-065",
            "68682-065_12b39571-f883-4a2a-a909-aef528d77d0b",
            date(2019, 12, 31),
            True,
            "Methoxsalen",
            "Oceanside Pharmaceuticals",
            ["METHOXSALEN"],
            ["ORAL"],
            True,
            date(2014, 7, 15),
            1,
        ),
        (
            "68682-066",
            "68682-066_3c0b5e57-0000-4000-8000-000000000066",
            date(2018, 12, 31),
            True,
            "Methoxsalen",
            "Oceanside Pharmaceuticals",
            ["METHOXSALEN"],
            ["ORAL"],
            True,
            date(2014, 7, 15),
            2,
        ),
    ]


def test_the_demo_sample_lands_and_builds(database):
    result = land_source(database, "openfda", bulk_location=str(SAMPLES_DIR / "openfda"))

    assert result.rows == {"labels": 3, "ndc": 2} and result.rejected == 0
    build(database)
    assert query(database, "select count(*) from intermediate.int_openfda_labels_current") == [(2,)]
    assert query(database, "select count(*) from intermediate.int_openfda_ndc_current") == [(2,)]


def test_a_date_of_an_unexpected_shape_is_staged_and_counted(database, tmp_path):
    # The documented label with its effective_time written 2014-04-23 (derived).
    land_source(
        database,
        "openfda",
        bulk_location=str(documented_label_partition(tmp_path, effective_time="2014-04-23")),
    )

    build(database)

    assert query(
        database, "select effective_date, effective_time_text from staging.stg_openfda__labels"
    ) == [(None, "2014-04-23")]
    assert query(
        database,
        "select check_name, rows_complete, rows_valid from ops.openfda_data_quality "
        "where check_name like 'label %%' order by 1",
    ) == [
        ("label effective time read (YYYYMMDD)", 1, 0),
        ("label has an SPL id and a numeric version", 1, 1),
        ("label set id is a UUID", 1, 1),
    ]
