"""RxNav staging: real dbt on what the real RxNav extract landed from the replayed answers
(tests/extract/test_rxnav.py)."""

from __future__ import annotations

from tests.conftest import build_models, land_source, query
from tests.extract.test_rxnav import create_drug_staging, rxnav_api  # noqa: F401


def test_staging_builds_one_row_per_found_id_concept_and_class(database, rxnav_api):  # noqa: F811
    create_drug_staging(database)
    land_source(database, "rxnav")

    staging = ("stg_rxnav__name_rxcuis", "stg_rxnav__ndc_rxcuis", "stg_rxnav__related_ingredients")
    build_models(database, *staging, "stg_rxnav__drug_classes", sources=["rxnav"])

    assert query(
        database, "select ndc, rxcui, is_found from staging.stg_rxnav__ndc_rxcuis order by 1"
    ) == [("0002-3227-30", None, False), ("0781-1506-10", "197381", True)]
    assert query(
        database,
        "select name, search, match_kind, rxcui from staging.stg_rxnav__name_rxcuis order by 1",
    ) == [
        ("ketotifen fumarate", 2, "exact_or_normalized", "11404"),
        ("zyrtec itchy eye", 2, "exact_or_normalized", "866350"),
    ]
    # The real allrelated answer of 866350: IN and PIN concepts (its MIN group is empty);
    # the other term types (BN, SBD, SCD ...) are left out.
    assert query(
        database,
        "select rxcui, related_rxcui, related_name, related_tty, related_umls_cui "
        "from staging.stg_rxnav__related_ingredients order by related_rxcui",
    ) == [
        ("866350", "11404", "Ketotifen Fumarate", "PIN", "C0043443"),
        ("866350", "6146", "Ketotifen", "IN", "C0022642"),
    ]
    assert query(
        database,
        "select requested_rela_source, concept_rxcui, class_id, class_type, rela "
        "from staging.stg_rxnav__drug_classes order by 1, 3",
    ) == [
        ("ATC", "6146", "R06AX", "ATC1-4", None),
        ("ATC", "6146", "S01GX", "ATC1-4", None),
        ("DAILYMED", "6146", "N0000000151", "MOA", "has_moa"),
        ("DAILYMED", "6146", "N0000008306", "PE", "has_pe"),
        ("DAILYMED", "6146", "N0000175629", "EPC", "has_epc"),
    ]
