"""ICD-10-CM extract: the real dlt pipeline into a real PostgreSQL, from CMS's real FY2021
order file and tabular XML (samples/icd10cm/, each in a zip as CMS ships them), as bulk
files and over HTTP on 127.0.0.1 in place of CMS's URLs, and from variants derived from
them (tests/fixtures/icd10cm/derived/)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from extract.bulk import Outcome
from medmirror.settings import SAMPLES_DIR
from tests.conftest import DERIVED, land_source, query
from tests.extract.legacy_state import write_legacy_state

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
    # Declared up front (the raw contract): the tabular table is there, and empty.
    assert query(database, "select count(*) from raw_icd10cm.tabular_codes") == [(0,)]


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


def order_file_bytes() -> bytes:
    with zipfile.ZipFile(ORDER_ZIP) as archive:
        return archive.read("icd10cm-order-Jan-2021.txt")


# CMS has named the order file in more than one way: `icd10cm_order_2021.txt` in the
# October release's zip, `icd10cm-order-Jan-2021.txt` in the January 2021 update (the
# sample's own name). The file is the real one, renamed: the same codes land.
@pytest.mark.parametrize("name", ["icd10cm_order_2021.txt", "icd10cm-order-Jan-2021.txt"])
def test_the_order_file_lands_the_same_codes_whatever_cms_named_it(database, tmp_path, name):
    release = tmp_path / "release"
    release.mkdir()
    (release / name).write_bytes(order_file_bytes())

    result = land_source(database, "icd10cm", bulk_location=str(release))

    assert result.rows == {"order_codes": ORDER_ENTRIES}
    assert query(database, "select distinct release_year from raw_icd10cm.order_codes") == [(2021,)]
    (offered,) = result.files.files.values()
    assert (offered.outcome, offered.rows) == (Outcome.LANDED, ORDER_ENTRIES)


def test_every_file_offered_is_accounted_for(database, tmp_path):
    release = tmp_path / "release"
    release.mkdir()
    shutil.copy(ORDER_ZIP, release)
    (release / "README.txt").write_text("ICD-10-CM files for the coding team\n")
    # Another publisher's XML (MedlinePlus topics): not a tabular XML, by its root element.
    shutil.copy(SAMPLES_DIR / "medlineplus" / "mplus_topics_2012-07-21.xml", release)

    result = land_source(database, "icd10cm", bulk_location=str(release))

    outcomes = {uri.split("/")[-1]: found.outcome for uri, found in result.files.files.items()}
    assert outcomes == {
        "icd10cm_order_2021.zip!icd10cm-order-Jan-2021.txt": Outcome.LANDED,
        "README.txt": Outcome.NOT_RELEASE_FILE,
        "mplus_topics_2012-07-21.xml": Outcome.NOT_RELEASE_FILE,
    }
    assert result.rows == {"order_codes": ORDER_ENTRIES}

    again = land_source(database, "icd10cm", bulk_location=str(release))

    assert again.total_rows == 0
    assert again.files.count(Outcome.ALREADY_LANDED) == 1
    assert again.files.count(Outcome.NOT_RELEASE_FILE) == 2


def order_file_with_an_unexpected_code(folder: Path) -> Path:
    """Derived: the first 100 lines of the real order file, the code of line 2 (A000)
    replaced by `1A000`, a shape no ICD-10-CM code has had (a digit first), every field
    kept in its place."""
    lines = order_file_bytes().splitlines(keepends=True)[:100]
    lines[1] = lines[1][:6] + b"1A000  " + lines[1][13:]
    release = folder / "icd10cm_order_2021.txt"
    release.write_bytes(b"".join(lines))
    return release


def test_a_code_of_an_unexpected_shape_lands_as_cms_wrote_it(database, tmp_path):
    release = order_file_with_an_unexpected_code(tmp_path)

    result = land_source(database, "icd10cm", bulk_location=str(release))

    assert result.rows == {"order_codes": 100}
    assert result.rejected == 0
    assert query(
        database,
        "select record ->> 'short_description' from raw_icd10cm.order_codes where code = '1A000'",
    ) == [("Cholera due to Vibrio cholerae 01, biovar cholerae",)]


def test_an_upgrade_keeps_the_files_the_older_ledger_landed(database):
    # The state medmirror's own ICD-10-CM ledger kept before BulkLedger.
    write_legacy_state(
        database, "icd10cm", "release_files", {"landed": {"2021": ["order"]}, "rejected": []}
    )

    result = land_source(database, "icd10cm", bulk_location=str(SAMPLES))

    assert result.rows == {"tabular_codes": TABULAR_CODES}  # the order file is not landed again
    outcomes = {uri.split("!")[-1]: found.outcome for uri, found in result.files.files.items()}
    assert outcomes == {
        "icd10cm-order-Jan-2021.txt": Outcome.ALREADY_LANDED,
        "icd10cm_tabular_2021.xml": Outcome.LANDED,
        str(SAMPLES / "PROVENANCE.md"): Outcome.NOT_RELEASE_FILE,
    }
