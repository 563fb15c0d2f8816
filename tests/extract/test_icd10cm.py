"""ICD-10-CM extract: the real dlt pipeline into a real PostgreSQL, from CMS's real FY2021
order file and tabular XML (samples/icd10cm/, each in a zip as CMS ships them), as bulk
files and over HTTP on 127.0.0.1 in place of CMS's URLs, and from variants derived from
them (tests/fixtures/icd10cm/derived/)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from medmirror.settings import SAMPLES_DIR
from tests.conftest import DERIVED, land_source, query

SAMPLES = SAMPLES_DIR / "icd10cm"
ORDER_ZIP = SAMPLES / "icd10cm_order_2021.zip"
TABULAR_ZIP = SAMPLES / "icd10cm_tabular_2021.zip"
DERIVED_2022 = DERIVED / "icd10cm" / "derived" / "icd10cm_order_2022_derived.zip"
TRUNCATED = DERIVED / "icd10cm" / "derived" / "icd10cm_tabular_2021_truncated.zip"
ORDER_ENTRIES = 95_358  # CMS's FY2021 order file: every line
ORDER_BILLABLE = 72_621
# The tabular XML's 44,772 diags with 7th characters expanded: the order file's 95,358
# and 72 S06 codes (deaths before regaining consciousness, S06.xx7/8, with D or S) that
# the XML's sevenChrDef allows and the order file does not list as valid.
TABULAR_CODES = 95_430
TABULAR_BILLABLE = 72_693


def order_lines() -> list[bytes]:
    with zipfile.ZipFile(ORDER_ZIP) as archive:
        return archive.read("icd10cm-order-Jan-2021.txt").splitlines()


def test_both_files_of_a_release_land_once_with_the_publishers_counts(database):
    lines = order_lines()
    assert len(lines) == ORDER_ENTRIES
    assert sum(line[14:15] == b"1" for line in lines) == ORDER_BILLABLE

    result = land_source(database, "icd10cm", bulk_location=str(SAMPLES))

    assert result.rows == {"order_codes": ORDER_ENTRIES, "tabular_codes": TABULAR_CODES}
    assert result.windows == 2  # one committed window per file
    assert result.rejected == 0
    assert query(
        database,
        "select release_year, count(*), "
        "count(*) filter (where (record ->> 'is_billable')::boolean) "
        "from raw_icd10cm.order_codes group by 1",
    ) == [(2021, ORDER_ENTRIES, ORDER_BILLABLE)]
    assert query(
        database,
        "select release_year, count(*), "
        "count(*) filter (where (record ->> 'is_billable')::boolean) "
        "from raw_icd10cm.tabular_codes group by 1",
    ) == [(2021, TABULAR_CODES, TABULAR_BILLABLE)]
    # Every order-file line, as published: code, flag and both titles.
    (entry,) = query(
        database,
        "select record, source_uri from raw_icd10cm.order_codes where code = 'S72001A'",
    )
    assert entry == (
        {
            "order_number": 55633,
            "code": "S72001A",
            "is_billable": True,
            "short_description": "Fracture of unsp part of neck of right femur, init",
            "long_description": "Fracture of unspecified part of neck of right femur, "
            "initial encounter for closed fracture",
        },
        f"{ORDER_ZIP}!icd10cm-order-Jan-2021.txt",
    )

    again = land_source(database, "icd10cm", bulk_location=str(SAMPLES))

    assert again.total_rows == 0
    assert again.rejected == 0
    assert query(database, "select count(*) from raw_icd10cm.order_codes") == [(ORDER_ENTRIES,)]


def test_the_tabular_xml_alone_gives_hierarchy_and_expanded_seventh_characters(database):
    result = land_source(database, "icd10cm", bulk_location=str(TABULAR_ZIP))

    assert result.rows == {"tabular_codes": TABULAR_CODES}
    ((code,),) = query(
        database, "select record from raw_icd10cm.tabular_codes where code = 'S72001A'"
    )
    # In the XML: chapter 19 > section S70-S79 > S72 (sevenChrDef A..S) > S72.0 > S72.00
    # > S72.001 ("Fracture of unspecified part of neck of right femur"), a leaf.
    assert code["dotted_code"] == "S72.001A"
    assert code["chapter"] == "19"
    assert code["section"] == "S70-S79"
    assert code["parent"] == "S72001"
    assert code["path"] == ["S72", "S72.0", "S72.00", "S72.001", "S72.001A"]
    assert code["is_billable"] is True
    assert code["seven_character"] == {
        "character": "A",
        "description": "initial encounter for closed fracture",
    }
    assert code["description"] == (
        "Fracture of unspecified part of neck of right femur, initial encounter for closed fracture"
    )
    # Placeholder X pads a code to six characters before its 7th: T36.0X1 -> T36.0X1A,
    # S02.0 (skull vault fracture) -> S02.0XXA.
    assert query(
        database,
        "select code, record ->> 'parent', (record ->> 'is_billable')::boolean "
        "from raw_icd10cm.tabular_codes where code in ('T360X1A', 'S020XXA', 'S020') "
        "order by code",
    ) == [("S020", "S02", False), ("S020XXA", "S020", True), ("T360X1A", "T360X1", True)]
    # A code with children is not billable; the 7th characters S72.001 gets make it a
    # category too.
    assert query(
        database,
        "select code, (record ->> 'is_billable')::boolean from raw_icd10cm.tabular_codes "
        "where code in ('S72', 'S72001', 'A000', 'A00') order by code",
    ) == [("A00", False), ("A000", True), ("S72", False), ("S72001", False)]
    ((notes,),) = query(
        database, "select record -> 'notes' from raw_icd10cm.tabular_codes where code = 'S72'"
    )
    assert notes["excludes1"] == ["traumatic amputation of hip and thigh (S78.-)"]
    assert notes["seven_character_note"] == [
        "The appropriate 7th character is to be added to all codes from category S72"
    ]
    # The order file found later adds itself to the release landed from the XML.
    later = land_source(database, "icd10cm", bulk_location=str(SAMPLES))
    assert later.rows == {"order_codes": ORDER_ENTRIES}


def test_the_order_file_alone_lands_a_release(database):
    result = land_source(database, "icd10cm", bulk_location=str(ORDER_ZIP))

    assert result.rows == {"order_codes": ORDER_ENTRIES}
    assert query(database, "select to_regclass('raw_icd10cm.tabular_codes')") == [(None,)]


def test_a_broken_xml_is_rejected_by_name_and_the_order_file_lands(database, tmp_path: Path):
    release = tmp_path / "release"
    release.mkdir()
    # Copies, not links: a bulk folder linking to files outside it is refused.
    shutil.copy(ORDER_ZIP, release)
    shutil.copy(TRUNCATED, release)

    result = land_source(database, "icd10cm", bulk_location=str(release))

    assert result.rows == {"order_codes": ORDER_ENTRIES}
    assert result.rejected == 1
    ((uri, problem),) = query(database, "select source_uri, problem from raw_icd10cm.rejects")
    assert uri == f"{release / TRUNCATED.name}!icd10cm_tabular_2021.xml"
    assert problem.startswith("not well-formed XML at line ")
    # A rerun reports the same bad file no more.
    assert land_source(database, "icd10cm", bulk_location=str(release)).rejected == 0


def test_the_release_urls_are_downloaded_once_and_each_year_lands_once(database, httpserver):
    for archive in (ORDER_ZIP, TABULAR_ZIP, DERIVED_2022):
        httpserver.expect_request(f"/files/zip/{archive.name}").respond_with_data(
            archive.read_bytes(), content_type="application/zip"
        )
    urls = [httpserver.url_for(f"/files/zip/{a.name}") for a in (ORDER_ZIP, TABULAR_ZIP)]

    first = land_source(database, "icd10cm", release_urls=urls)
    second = land_source(
        database,
        "icd10cm",
        release_urls=[*urls, httpserver.url_for(f"/files/zip/{DERIVED_2022.name}")],
    )

    assert first.rows == {"order_codes": ORDER_ENTRIES, "tabular_codes": TABULAR_CODES}
    assert second.rows == {"order_codes": ORDER_ENTRIES - 1}  # 2022 only: A00.0 removed
    assert query(
        database, "select release_year, count(*) from raw_icd10cm.order_codes group by 1 order by 1"
    ) == [(2021, ORDER_ENTRIES), (2022, ORDER_ENTRIES - 1)]
    assert len(httpserver.log) == 3  # each zip fetched once
