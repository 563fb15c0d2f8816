"""DailyMed staging and the current-label model: real dbt on what the real extract landed
from the real SPL samples (samples/dailymed/)."""

from __future__ import annotations

from datetime import date

from tests.conftest import build_models, land_source, query
from tests.extract.test_dailymed import (
    DERIVED,
    HUMIRA,
    LIPITOR,
    LIPITOR_REPACK,
    METHOXSALEN,
    NO_TITLE,
    SAMPLE_SET_IDS,
    SAMPLES,
)

OLDER_LIPITOR = DERIVED / "older_lipitor"


def test_staging_builds_and_keeps_the_latest_version_of_each_label(database):
    land_source(database, "dailymed", bulk_location=str(SAMPLES))
    # A later landing of an older Lipitor version (version 10, landed after 11 from
    # another release) does not replace the newest one.
    land_source(database, "dailymed", bulk_location=str(OLDER_LIPITOR))
    build_models(
        database, "int_dailymed_labels_current", "dailymed_data_quality", sources=["dailymed"]
    )

    assert query(database, "select count(*) from staging.stg_dailymed__labels") == [(7,)]
    # Every id and code of the real labels has its expected shape (none counted as odd).
    assert query(
        database,
        "select check_name, rows_checked, rows_valid = rows_complete "
        "from ops.dailymed_data_quality order by 1",
    ) == [
        ("label set id is a UUID", 7, True),
        ("pharmacologic class type EPC, MoA, PE or CS", 5, True),
        ("product NDC shaped labeler-product (4-4, 5-3 or 5-4 digits)", 15, True),
    ]
    assert query(
        database,
        "select spl_version, effective_date from intermediate.int_dailymed_labels_current "
        "where set_id = %s",
        LIPITOR,
    ) == [(11, date(2014, 1, 13))]
    assert query(
        database,
        "select set_id from intermediate.int_dailymed_labels_current order by set_id",
    ) == [(set_id,) for set_id in SAMPLE_SET_IDS]

    # One row per product of the current labels: Lipitor 4, its repackager 1, HUMIRA 4,
    # haloperidol 1, OTC 1.
    assert query(
        database,
        """
        select products.set_id, count(*)
        from staging.stg_dailymed__products as products
        inner join intermediate.int_dailymed_labels_current as labels
            using (set_id, spl_version, load_id)
        group by 1 order by 1
        """,
    ) == sorted(
        [
            (LIPITOR, 4),
            (LIPITOR_REPACK, 1),
            (HUMIRA, 4),
            (NO_TITLE, 1),
            ("00f66f25-3469-4c16-9baf-fba21e9628bd", 1),
        ]
    )
    assert query(
        database,
        """
        select ndc_product_code, proprietary_name, dosage_form_name, route_names,
               active_moiety_names, active_moiety_uniis, marketing_category_name,
               application_number, marketing_start_date, ndc_package_codes
        from staging.stg_dailymed__products where set_id = %s
        """,
        LIPITOR_REPACK,
    ) == [
        (
            "55289-800",
            "Lipitor",
            "TABLET, FILM COATED",
            ["ORAL"],
            ["atorvastatin"],
            ["A0JWA85V8F"],
            "NDA",
            "NDA020702",
            date(1996, 12, 17),
            ["55289-800-30"],
        )
    ]

    # HUMIRA's specific-population subsections, each with its own code, under 43684-0.
    humira = query(
        database,
        """
        select section_code, section_title, section_level, parent_section_code,
               length(section_text) > 200
        from staging.stg_dailymed__sections
        where set_id = %s and parent_section_code = '43684-0'
        order by section_position
        """,
        HUMIRA,
    )
    assert humira == [
        ("42228-7", "8.1 Pregnancy", 2, "43684-0", True),
        ("34080-2", "8.3 Nursing Mothers", 2, "43684-0", True),
        ("34081-0", "8.4 Pediatric Use", 2, "43684-0", True),
        ("34082-8", "8.5 Geriatric Use", 2, "43684-0", True),
    ]
    untitled = query(
        database,
        "select count(*), count(section_code), count(section_title) "
        "from staging.stg_dailymed__sections where set_id = %s",
        NO_TITLE,
    )
    assert untitled[0][0] == untitled[0][1] == 44

    assert query(
        database,
        "select substance_name, class_type, class_name "
        "from staging.stg_dailymed__pharmacologic_classes where set_id = %s order by 2, 3",
        METHOXSALEN,
    ) == [
        ("METHOXSALEN", "CS", "Psoralens"),
        ("METHOXSALEN", "EPC", "Photoactivated Radical Generator"),
        ("METHOXSALEN", "EPC", "Psoralen"),
        ("METHOXSALEN", "MoA", "Photoabsorption"),
        ("METHOXSALEN", "PE", "Photosensitizing Activity"),
    ]
