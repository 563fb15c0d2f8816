"""HCPCS Level II extract: the real dlt pipeline into a real PostgreSQL, from CMS's real
2019 Alpha-Numeric HCPCS zip (samples/hcpcs/, exactly as downloaded), as a bulk file and
over HTTP on 127.0.0.1 in place of CMS's URL, and from a variant derived from it
(tests/fixtures/hcpcs/derived/)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from extract.bulk import NoReleaseFiles, Outcome
from medmirror.settings import SAMPLES_DIR
from tests.conftest import DERIVED, land_source, query

RELEASE = SAMPLES_DIR / "hcpcs" / "2019-Alpha-Numeric-HCPCS-File.zip"
BAD_LINE = DERIVED / "hcpcs" / "derived" / "hcpcs_2020_excerpt_bad_line.zip"
CODES_2019 = 6_800  # first records (3: procedure, 7: modifier) in HCPC2019_CONTR_ANWEB.txt


def first_records() -> int:
    with zipfile.ZipFile(RELEASE) as archive:
        lines = archive.read("HCPC2019_CONTR_ANWEB.txt").splitlines()
    return sum(line[10:11] in (b"3", b"7") for line in lines)


def test_the_real_release_lands_one_row_per_code_with_its_description_joined(database):
    assert first_records() == CODES_2019

    result = land_source(database, "hcpcs", bulk_location=str(RELEASE))

    assert result.rows == {"codes": CODES_2019}
    assert result.rejected == 0  # CMS's disclaimer lines at the top are not records
    assert query(
        database, "select release, release_year, count(*) from raw_hcpcs.codes group by 1, 2"
    ) == [("2019", 2019, CODES_2019)]
    # G8891: three records (sequence 00100, 00200, 00300) joined into one description.
    ((g8891,),) = query(database, "select record from raw_hcpcs.codes where hcpcs_code = 'G8891'")
    assert g8891["long_description"] == (
        "Documentation of medical reason(s) for most recent ldl-c not under control "
        "(e.g., patients with palliative goals for whom treatment of hypertension with "
        "standard treatment goals is not clinically appropriate)"
    )
    assert g8891["description_records"] == 3
    assert g8891["short_description"] == "Doc med reas no ldl-c contrl"
    assert (g8891["added_date"], g8891["action_effective_date"], g8891["termination_date"]) == (
        "2012-01-01",
        "2015-01-01",
        "2014-12-31",
    )
    # A modifier (record identification 7, then 8), its code in positions 4-5.
    ((ad,),) = query(database, "select record from raw_hcpcs.codes where hcpcs_code = 'AD'")
    assert ad["kind"] == "modifier"
    assert ad["long_description"] == (
        "Medical supervision by a physician: more than four concurrent anesthesia procedures"
    )
    ((a0021,),) = query(database, "select record from raw_hcpcs.codes where hcpcs_code = 'A0021'")
    assert {
        key: a0021[key]
        for key in (
            "pricing_indicators",
            "coverage_code",
            "betos_code",
            "cross_reference_codes",
            "type_of_service_codes",
            "action_code",
        )
    } == {
        "pricing_indicators": ["00"],
        "coverage_code": "I",
        "betos_code": "O1A",
        "cross_reference_codes": ["A0030"],
        "type_of_service_codes": ["D"],
        "action_code": "N",
    }
    assert query(
        database,
        "select record ->> 'action_code', count(*) from raw_hcpcs.codes group by 1 order by 1",
    ) == [("A", 228), ("B", 1), ("C", 94), ("D", 49), ("F", 1), ("N", 6372), ("P", 47), ("S", 8)]

    again = land_source(database, "hcpcs", bulk_location=str(RELEASE))

    assert again.total_rows == 0
    assert query(database, "select count(*) from raw_hcpcs.codes") == [(CODES_2019,)]


def test_a_line_that_is_no_record_is_rejected_with_its_line_and_the_rest_lands(database):
    result = land_source(database, "hcpcs", bulk_location=str(BAD_LINE))

    member = f"{BAD_LINE}!HCPC2020_CONTR_ANWEB.txt"
    assert result.rejected == 2
    assert query(database, "select source_uri, problem from raw_hcpcs.rejects order by 2") == [
        (member, "line 101: not an HCPCS record: 'THIS LINE IS NOT AN HCPCS RECORD'"),
        (member, "line 400: continuation of SF without its first record (skipped)"),
    ]
    assert query(database, "select distinct release from raw_hcpcs.codes") == [("2020",)]
    assert query(database, "select count(*) from raw_hcpcs.codes where hcpcs_code = 'SF'") == [(0,)]
    assert query(database, "select count(*) from raw_hcpcs.codes") == [
        (sum(1 for _ in _first_lines()) - 1,)  # every first record but SF's, removed
    ]


def _first_lines():
    with zipfile.ZipFile(RELEASE) as archive:
        lines = archive.read("HCPC2019_CONTR_ANWEB.txt").splitlines()[:400]
    return (line for line in lines if line[10:11] in (b"3", b"7"))


def test_the_release_url_is_downloaded_and_a_new_release_adds_itself(database, httpserver):
    for archive in (RELEASE, BAD_LINE):
        httpserver.expect_request(f"/files/zip/{archive.name}").respond_with_data(
            archive.read_bytes(), content_type="application/zip"
        )
    first_url = httpserver.url_for(f"/files/zip/{RELEASE.name}")

    first = land_source(database, "hcpcs", release_urls=[first_url])
    second = land_source(
        database,
        "hcpcs",
        release_urls=[first_url, httpserver.url_for(f"/files/zip/{BAD_LINE.name}")],
    )

    assert first.rows == {"codes": CODES_2019}
    assert second.rows["codes"] < 400  # only the 2020 excerpt
    assert query(
        database, "select release, count(*) > 0 from raw_hcpcs.codes group by 1 order by 1"
    ) == [("2019", True), ("2020", True)]
    assert len(httpserver.log) == 2


# CMS has named the code file differently over the years; each name below is a style CMS
# used (the year written in full, with a quarter, a version or a date appended, or the
# disclaimer named). The file is the real 2019 one, renamed: the same codes land.
NAMING_STYLES = {
    "HCPC2019_CONTR_ANWEB.txt": "2019",  # 2019's own name
    "HCPC2019_ANWEB_w_disclaimer.txt": "2019",  # as in 2020
    "HCPC2019_JAN_ANWEB_v2.txt": "2019-01",  # quarterly, versioned (2020s)
    "HCPC2019_OCT_ANWEB_06172019.txt": "2019-10",  # quarterly, dated (2026)
}


def code_file() -> bytes:
    with zipfile.ZipFile(RELEASE) as archive:
        return archive.read("HCPC2019_CONTR_ANWEB.txt")


@pytest.mark.parametrize("name", NAMING_STYLES)
def test_the_code_file_lands_the_same_codes_whatever_cms_named_it(database, tmp_path, name):
    release = tmp_path / "release"
    release.mkdir()
    (release / name).write_bytes(code_file())

    result = land_source(database, "hcpcs", bulk_location=str(release))

    assert result.rows == {"codes": CODES_2019}
    assert query(database, "select distinct release from raw_hcpcs.codes") == [
        (NAMING_STYLES[name],)
    ]
    (offered,) = result.files.files.values()
    assert (offered.outcome, offered.rows) == (Outcome.LANDED, CODES_2019)


def test_every_file_offered_is_accounted_for(database, tmp_path):
    release = tmp_path / "release"
    release.mkdir()
    shutil.copy(RELEASE, release)
    (release / "README.txt").write_text("HCPCS files for the billing team, downloaded monthly\n")
    (release / "ndc_crosswalk.csv").write_text("ndc,hcpcs\n0002-1433-80,J3490\n")

    result = land_source(database, "hcpcs", bulk_location=str(release))

    outcomes = {
        Path(uri.split("!")[-1]).name: found.outcome for uri, found in result.files.files.items()
    }
    assert outcomes["HCPC2019_CONTR_ANWEB.txt"] == Outcome.LANDED
    assert outcomes["README.txt"] == Outcome.NOT_RELEASE_FILE
    assert outcomes["ndc_crosswalk.csv"] == Outcome.NOT_RELEASE_FILE
    # The zip's other members (its README, processing notes, the Excel twin) are listed.
    assert outcomes["HCPC2019_CONTR_ANWEB.xlsx"] == Outcome.NOT_RELEASE_FILE
    assert len(outcomes) == len(result.files.files)

    again = land_source(database, "hcpcs", bulk_location=str(release))

    assert again.total_rows == 0
    assert again.files.count(Outcome.ALREADY_LANDED) == 1


def test_a_location_holding_no_release_file_fails_listing_what_it_saw(database, tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "README.txt").write_text("HCPCS files for the billing team\n")
    (folder / "notes.txt").write_text("ask CMS for the October file\n")

    with pytest.raises(NoReleaseFiles, match="none of the 2 files offered") as failed:
        land_source(database, "hcpcs", bulk_location=str(folder))

    assert "README.txt: not a release file" in str(failed.value)
    assert "notes.txt: not a release file" in str(failed.value)
