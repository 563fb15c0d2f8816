"""The codes marts: real dbt on what the real extracts landed from CMS's FY2021 ICD-10-CM
files (samples/icd10cm/) and 2019 HCPCS file (samples/hcpcs/), and a derived 2022
ICD-10-CM release (tests/fixtures/icd10cm/derived/)."""

from __future__ import annotations

import zipfile

from lxml import etree

from flows.dbt_runner import build_sources
from flows.search import search
from tests.conftest import land_source, query
from tests.extract.test_hcpcs import CODES_2019
from tests.extract.test_hcpcs import RELEASE as HCPCS_RELEASE
from tests.extract.test_icd10cm import (
    DERIVED_2022,
    ORDER_BILLABLE,
    ORDER_ENTRIES,
    ORDER_ZIP,
    TABULAR_BILLABLE,
    TABULAR_CODES,
    TABULAR_ZIP,
    order_file_with_an_unexpected_code,
)


def build_icd10cm(connection) -> None:
    build_sources(connection, ["icd10cm"])


def order_file() -> dict[str, tuple[str, str, str]]:
    """Code -> (billable flag, short title, long title), as the order file writes them."""
    with zipfile.ZipFile(ORDER_ZIP) as archive:
        text = archive.read("icd10cm-order-Jan-2021.txt").decode()
    return {
        line[6:13].strip(): (line[14], line[16:76].strip(), line[77:].strip())
        for line in text.splitlines()
    }


def xml_ancestors(dotted_code: str) -> tuple[str, list[str]]:
    """The chapter and the chain of `diag` names from the category down to `dotted_code`
    (for a 7th-character code, to the diag it extends), read from the tabular XML."""
    with zipfile.ZipFile(TABULAR_ZIP) as archive:
        root = etree.fromstring(archive.read("icd10cm_tabular_2021.xml"))
    diag_name = dotted_code if len(dotted_code) <= 7 else dotted_code[:-1].rstrip("X")
    (name,) = root.xpath("//diag/name[text()=$code]", code=diag_name)
    chain = [element.findtext("name") for element in name.getparent().iterancestors("diag")]
    chapter = next(name.getparent().iterancestors("chapter")).findtext("name")
    return chapter, [*reversed(chain), diag_name]


def test_both_files_give_every_order_file_code_with_its_title_and_place(samples_database):
    database = samples_database("icd10cm")  # both files of the real release landed and built

    assert query(
        database,
        "select count(*), count(*) filter (where is_billable), "
        "count(*) filter (where is_current) from marts.icd10cm_codes",
    ) == [(ORDER_ENTRIES, ORDER_BILLABLE, ORDER_ENTRIES)]
    published = order_file()
    mart = {
        code: (flag, short, long)
        for code, flag, short, long in query(
            database,
            "select code, case when is_billable then '1' else '0' end, short_description, "
            "long_description from marts.icd10cm_codes",
        )
    }
    assert mart == published  # every code, flag and title unchanged
    assert query(
        database,
        "select check_name, rows_checked, rows_valid from ops.icd10cm_data_quality "
        "order by check_name desc",
    ) == [
        (
            "code has the ICD-10-CM shape (letter, digit, then 1 to 5 letters or digits)",
            ORDER_ENTRIES,
            ORDER_ENTRIES,
        ),
        ("code has a title", ORDER_ENTRIES, ORDER_ENTRIES),
    ]
    # Every billable code has a chapter and a parent chain up to its category.
    assert query(
        database,
        """
        select count(*) from marts.icd10cm_codes
        where is_billable and (
            chapter is null or block is null
            or path_codes[1] <> category
            or path_codes[cardinality(path_codes)] <> dotted_code
        )
        """,
    ) == [(0,)]
    assert query(
        database,
        """
        select count(*) from marts.icd10cm_codes as codes
        left join marts.icd10cm_codes as parents on codes.parent_code = parents.code
        where codes.code <> codes.category
            and (parents.code is null or parents.chapter <> codes.chapter)
        """,
    ) == [(0,)]
    # Sample codes placed as the tabular XML places them.
    for dotted in ("S72.001A", "T36.0X1A", "A00.0", "E11.65", "O09.513", "M48.50XA"):
        chapter, chain = xml_ancestors(dotted)
        ((got_chapter, path),) = query(
            database,
            "select chapter, path_codes from marts.icd10cm_codes where dotted_code = %s",
            dotted,
        )
        expected = chain if dotted in chain else [*chain, dotted]
        assert (got_chapter, path) == (chapter, expected), dotted
    ((fracture,),) = query(
        database,
        "select to_jsonb(codes) - 'search_vector' from marts.icd10cm_codes as codes "
        "where code = 'S72001A'",
    )
    assert {
        key: fracture[key]
        for key in (
            "dotted_code",
            "chapter",
            "block",
            "category",
            "category_description",
            "parent_code",
            "full_path",
            "seven_character",
            "first_release_year",
            "last_release_year",
        )
    } == {
        "dotted_code": "S72.001A",
        "chapter": "19",
        "block": "S70-S79",
        "category": "S72",
        "category_description": "Fracture of femur",
        "parent_code": "S72001",
        "full_path": "Chapter 19 > S70-S79 > S72 > S72.0 > S72.00 > S72.001 > S72.001A",
        "seven_character": "A",
        "first_release_year": 2021,
        "last_release_year": 2021,
    }
    # Search by words finds codes; the title matches rank first.
    hits = search(
        database, "icd10cm_codes", "fracture neck right femur closed initial", ["code"], 20
    )
    assert "S72001A" in [hit["code"] for hit in hits]
    cholera = search(database, "icd10cm_codes", "cholera", ["code"], 20)
    # Titles first (weight A); Y38.6 (terrorism involving biological weapons) is found
    # by its inclusion term "Terrorism involving cholera" (weight B).
    assert sorted(hit["code"] for hit in cholera[:4]) == ["A00", "A000", "A001", "A009"]
    assert [hit["code"] for hit in cholera[4:]] == ["Y386"]
    assert query(database, "select count(*) from marts.icd10cm_code_changes") == [(0,)]


def test_a_code_of_an_unexpected_shape_is_in_the_mart_and_counted(database, tmp_path):
    land_source(
        database, "icd10cm", bulk_location=str(order_file_with_an_unexpected_code(tmp_path))
    )

    build_icd10cm(database)

    assert query(database, "select count(*) from marts.icd10cm_codes") == [(100,)]
    assert query(database, "select dotted_code from marts.icd10cm_codes where code = '1A000'") == [
        ("1A0.00",)
    ]
    assert query(
        database,
        "select rows_checked, rows_valid from ops.icd10cm_data_quality "
        "where starts_with(check_name, 'code has the ICD-10-CM shape')",
    ) == [(100, 99)]


def test_the_tabular_xml_alone_builds_codes_with_their_hierarchy(database):
    land_source(database, "icd10cm", bulk_location=str(TABULAR_ZIP))

    build_icd10cm(database)

    assert query(
        database,
        "select count(*), count(*) filter (where is_billable), count(chapter), "
        "count(*) filter (where short_description is null) from marts.icd10cm_codes",
    ) == [(TABULAR_CODES, TABULAR_BILLABLE, TABULAR_CODES, TABULAR_CODES)]
    assert query(
        database,
        "select long_description, full_path from marts.icd10cm_codes where code = 'S020XXA'",
    ) == [
        (
            "Fracture of vault of skull, initial encounter for closed fracture",
            "Chapter 19 > S00-S09 > S02 > S02.0 > S02.0XXA",
        )
    ]


def test_the_order_file_alone_builds_codes_without_chapters(database):
    land_source(database, "icd10cm", bulk_location=str(ORDER_ZIP))

    build_icd10cm(database)

    assert query(
        database,
        "select count(*), count(*) filter (where is_billable), count(chapter) "
        "from marts.icd10cm_codes",
    ) == [(ORDER_ENTRIES, ORDER_BILLABLE, 0)]
    # The parent is the longest code of the release the code starts with.
    assert query(
        database,
        "select code, parent_code, full_path from marts.icd10cm_codes "
        "where code in ('S72001A', 'T360X1A') order by code",
    ) == [
        ("S72001A", "S72001", "S72 > S72.0 > S72.00 > S72.001 > S72.001A"),
        ("T360X1A", "T360X1", "T36 > T36.0 > T36.0X > T36.0X1 > T36.0X1A"),
    ]


def test_a_later_release_shows_its_removed_and_retitled_codes(samples_database):
    database = samples_database("icd10cm")  # the real 2021 release landed and built
    land_source(database, "icd10cm", bulk_location=str(DERIVED_2022))

    build_icd10cm(database)

    assert query(
        database,
        "select change_id, change_type, previous_release_year, previous_long_description, "
        "long_description from marts.icd10cm_code_changes order by code",
    ) == [
        (
            "2022:A000",
            "removed",
            2021,
            "Cholera due to Vibrio cholerae 01, biovar cholerae",
            None,
        ),
        (
            "2022:A001",
            "retitled",
            2021,
            "Cholera due to Vibrio cholerae 01, biovar eltor",
            "Cholera due to Vibrio cholerae 01, biovar eltor (retitled for the test)",
        ),
    ]
    assert query(
        database,
        "select code, first_release_year, last_release_year, is_current, long_description "
        "from marts.icd10cm_codes where code in ('A000', 'A001', 'A009') order by code",
    ) == [
        ("A000", 2021, 2021, False, "Cholera due to Vibrio cholerae 01, biovar cholerae"),
        (
            "A001",
            2021,
            2022,
            True,
            "Cholera due to Vibrio cholerae 01, biovar eltor (retitled for the test)",
        ),
        ("A009", 2021, 2022, True, "Cholera, unspecified"),
    ]
    # 2022 has no tabular XML: its codes keep no chapter, 2021's removed code keeps its.
    assert query(
        database,
        "select chapter from marts.icd10cm_codes where code in ('A000', 'A009') order by code",
    ) == [("1",), (None,)]


def test_hcpcs_codes_hold_each_code_once_and_search_finds_them(database):
    land_source(database, "hcpcs", bulk_location=str(HCPCS_RELEASE))

    build_sources(database, ["hcpcs"])

    assert query(
        database,
        "select count(*), count(*) filter (where code_kind = 'modifier'), "
        "count(*) filter (where description_records > 1) from marts.hcpcs_codes",
    ) == [(CODES_2019, 360, 2864)]
    assert query(
        database,
        "select long_description, description_records, termination_date::text "
        "from marts.hcpcs_codes where hcpcs_code = 'G8891'",
    ) == [
        (
            "Documentation of medical reason(s) for most recent ldl-c not under control "
            "(e.g., patients with palliative goals for whom treatment of hypertension with "
            "standard treatment goals is not clinically appropriate)",
            3,
            "2014-12-31",
        )
    ]
    hits = search(database, "hcpcs_codes", "wheelchair seat cushion", ["long_description"])
    assert hits and all("cushion" in hit["long_description"].lower() for hit in hits[:3])
    syringes = search(database, "hcpcs_codes", "sterile syringe with needle", ["hcpcs_code"])
    assert "A4206" in [hit["hcpcs_code"] for hit in syringes]
