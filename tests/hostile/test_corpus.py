"""The hostile-input corpus (tests/hostile/cases/, README.md there), each case run through
the source that would meet it: the run ends with a reject naming the file and what is
wrong (or a clear error), nothing already landed is lost, nothing is written outside the
data folder, and a rerun finds nothing new to do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from extract.clinicaltrials import settings as clinicaltrials_settings
from extract.errors import MalformedInput
from medmirror.settings import SAMPLES_DIR
from tests.conftest import DERIVED, land_source, query, sample
from tests.extract.test_clinicaltrials import landed_ids
from tests.extract.test_openfda import PARTITIONS

CASES = Path(__file__).resolve().parent / "cases"
GOOD_STUDY = SAMPLES_DIR / "clinicaltrials" / "study_NCT00973089.json"
COUGH_SET_ID = "00f66f25-3469-4c16-9baf-fba21e9628bd"  # the real label in the nested zip
KEY = "mm-hostile-key-5b1e"


def land_clinicaltrials(database, **arguments):
    return land_source(database, "clinicaltrials", **arguments)


def land_dailymed(database, **arguments):
    return land_source(database, "dailymed", **arguments)


def land_openfda(database, **arguments):
    return land_source(database, "openfda", **arguments)


def land_pubmed(database, **arguments):
    return land_source(database, "pubmed", **arguments)


def release(folder: Path, *files: Path) -> Path:
    folder.mkdir(parents=True)
    for file in files:
        shutil.copy(file, folder / file.name)
    return folder


def rejects(connection, source: str) -> dict[str, str]:
    statement = f"select source_uri, problem from raw_{source}.rejects"  # noqa: S608
    return dict(query(connection, statement))


def everything_landed(connection, source: str, table: str) -> str:
    """Every record and reject text of a raw table, to search for what must not be there."""
    rows = query(connection, f"select record::text from raw_{source}.{table}")  # noqa: S608
    problems = query(connection, f"select problem from raw_{source}.rejects")  # noqa: S608
    return "\n".join(str(text) for (text,) in rows + problems)


def test_clinicaltrials_bombs_and_broken_files(database, tmp_path: Path):
    names = [
        "ctgov_gzip_bomb.json.gz",
        "ctgov_zip_bomb.zip",
        "ctgov_nesting_bomb.json",
        "ctgov_invalid_utf8.json",
        "ctgov_truncated.zip",
        "ctgov_zip_slip.zip",
    ]
    folder = release(tmp_path / "work" / "release", GOOD_STUDY, *(CASES / name for name in names))

    result = land_clinicaltrials(database, bulk_location=str(folder))

    found = rejects(database, "clinicaltrials")
    expected = {
        "ctgov_gzip_bomb.json.gz": "a decompression bomb, refused",
        "ctgov_zip_bomb.zip!NCT00000000.json": "a decompression bomb, refused",
        "ctgov_nesting_bomb.json": "not valid JSON",
        "ctgov_invalid_utf8.json": "not valid UTF-8 at byte 200",
        "ctgov_truncated.zip": "not a readable zip",
        "ctgov_zip_slip.zip!NCT99999999.json": "not valid JSON",  # a link's text, not a file
    }
    assert sorted(found) == sorted(str(folder / name) for name in expected)
    for name, text in expected.items():
        assert text in found[str(folder / name)], found[str(folder / name)]
    zip_bomb = found[str(folder / "ctgov_zip_bomb.zip!NCT00000000.json")]
    assert "bytes compressed and 67,108,864 bytes decompressed" in zip_bomb  # its name and size
    assert result.rejected == len(expected)
    # The good study and the real one inside each zip land; a `../` name stays a name.
    assert sorted(set(landed_ids(database))) == ["NCT00973089", "NCT03475563"]
    uris = {uri for (uri,) in query(database, "select source_uri from raw_clinicaltrials.studies")}
    assert f"{folder}/ctgov_zip_slip.zip!../../escaped/NCT03475563.json" in uris
    assert not list(tmp_path.rglob("escaped"))  # zip members are never written to disk
    assert "root:x:0:0" not in everything_landed(database, "clinicaltrials", "studies")

    again = land_clinicaltrials(database, bulk_location=str(folder))
    assert again.total_rows == 0 and again.rejected == 0


def test_a_large_page_of_studies_is_streamed_and_checked_to_its_byte(
    database, tmp_path: Path, monkeypatch
):
    # Any document above this is streamed study by study (a real page of five is 10 KB).
    monkeypatch.setattr(clinicaltrials_settings, "WHOLE_DOCUMENT_BYTES", 1000)
    page = sample("clinicaltrials/studies_page1_phelan_pagesize5.json")
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a_page.json").write_bytes(page)
    # Derived: the same page with one byte replaced by 0xff (not UTF-8) at offset 5000.
    (folder / "b_page_latin.json").write_bytes(page[:5000] + b"\xff" + page[5001:])

    result = land_clinicaltrials(database, bulk_location=str(folder))

    assert result.rows == {"studies": 5}
    assert rejects(database, "clinicaltrials") == {
        str(folder / "b_page_latin.json"): "not valid UTF-8 at byte 5000: invalid start byte"
    }


def test_dailymed_nested_zip_bomb_and_billion_laughs(database, tmp_path: Path):
    folder = release(
        tmp_path / "release",
        CASES / "dailymed_nested_bomb.zip",
        CASES / "dailymed_billion_laughs.xml",
    )

    result = land_dailymed(database, bulk_location=str(folder))

    found = rejects(database, "dailymed")
    bomb = f"{folder}/dailymed_nested_bomb.zip!20260101_bomb.zip!0000-bomb.xml"
    laughs = str(folder / "dailymed_billion_laughs.xml")
    assert sorted(found) == sorted([bomb, laughs])
    assert "67,108,864 bytes decompressed" in found[bomb]
    # libxml2 stops at the amplification itself; a smaller one meets refuse_entities.
    assert (
        "Maximum entity amplification factor exceeded" in found[laughs]
        or "declares XML entities" in found[laughs]
    )
    assert query(database, "select set_id from raw_dailymed.labels") == [(COUGH_SET_ID,)]
    assert result.rejected == 2
    assert land_dailymed(database, bulk_location=str(folder)).total_rows == 0


def test_pubmed_external_entity_and_element_bomb(database, tmp_path: Path):
    baseline = SAMPLES_DIR / "pubmed" / "pubmed26n1334_baseline_sample.xml.gz"
    folder = release(
        tmp_path / "pubmed",
        baseline,
        CASES / "pubmed_xxe.xml",
        CASES / "pubmed_element_bomb.xml.gz",
    )

    result = land_pubmed(database, bulk_location=str(folder))

    found = rejects(database, "pubmed")
    assert sorted(found) == sorted(
        str(folder / name) for name in ("pubmed_element_bomb.xml.gz", "pubmed_xxe.xml")
    )
    assert "declares XML entities (xxe)" in found[str(folder / "pubmed_xxe.xml")]
    bomb = found[str(folder / "pubmed_element_bomb.xml.gz")]
    assert "decompression bomb" in bomb or "larger than any real one" in bomb
    assert result.rows == {"articles": 30}  # the real baseline file, whole
    assert "root:x:0:0" not in everything_landed(database, "pubmed", "articles")


def test_openfda_nesting_bomb(database, tmp_path: Path):
    folder = release(
        tmp_path / "partitions",
        CASES / "openfda_nesting_bomb" / "drug-label-0001-of-0001.json",
        PARTITIONS / "drug-ndc-0001-of-0001.json.zip",
    )

    result = land_openfda(database, bulk_location=str(folder))

    found = rejects(database, "openfda")
    assert list(found) == [str(folder / "drug-label-0001-of-0001.json")]
    assert "JSON nested more than 128 levels deep within bytes" in next(iter(found.values()))
    assert result.rows == {"ndc": 3}  # the other partition lands, no label does


def test_openfda_manifest_with_a_path_in_its_date(database, httpserver, tmp_path: Path):
    asked: list[str] = []

    def partition(request: Request) -> Response:
        asked.append(request.path)
        return Response(
            (PARTITIONS / "drug-ndc-0001-of-0001.json.zip").read_bytes(),
            content_type="application/zip",
        )

    base = httpserver.url_for("").rstrip("/")
    manifest = (CASES / "openfda_manifest.json").read_text().replace("{base}", base)
    httpserver.expect_request("/download.json").respond_with_data(
        manifest, content_type="application/json"
    )
    httpserver.expect_request("/drug/ndc/drug-ndc-0002-of-0002.json.zip").respond_with_handler(
        partition
    )
    downloads = tmp_path / "data" / "downloads"

    result = land_openfda(
        database, bulk_location=f"{base}/download.json", download_dir=str(downloads)
    )

    found = rejects(database, "openfda")
    assert len(found) == 3
    problems = "\n".join(found.values())
    assert "export_date '../../../../escaped' is not a YYYY-MM-DD date" in problems
    assert "'..%2F..%2Fescaped.zip' is not a partition file of drug/ndc" in problems
    assert "on https://downloads.example.org, not on FDA's https hosts" in problems
    assert asked == ["/drug/ndc/drug-ndc-0002-of-0002.json.zip"]  # nothing else fetched
    assert result.rows == {"ndc": 3}
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert all(path.is_relative_to(downloads) for path in written if "escaped" in str(path))
    assert not list(tmp_path.rglob("escaped"))
    assert (
        land_openfda(
            database, bulk_location=f"{base}/download.json", download_dir=str(downloads)
        ).rows
        == {}
    )


def test_a_redirect_to_another_host_gets_no_key(database, httpserver, monkeypatch):
    other = HTTPServer(host="127.0.0.1", port=0)
    other.start()
    try:
        seen: list[dict[str, str]] = []

        def page(request: Request) -> Response:
            seen.append(dict(request.args) | dict(request.headers))
            return Response(
                sample("clinicaltrials/studies_page2_phelan_pagesize5.json").replace(
                    b'"nextPageToken"', b'"unusedToken"'
                ),
                content_type="application/json",
            )

        other.expect_request("/moved").respond_with_handler(page)
        httpserver.expect_request("/api/v2/studies").respond_with_response(
            Response(status=302, headers={"Location": f"{other.url_for('/moved')}?api_key={KEY}"})
        )
        monkeypatch.setenv("SOURCES__CLINICALTRIALS__API_KEY", KEY)
        api_url = httpserver.url_for("/api/v2/studies")
        monkeypatch.setenv("SOURCES__CLINICALTRIALS__API_URL", api_url)
        monkeypatch.setenv("SOURCES__CLINICALTRIALS__REQUESTS_PER_SECOND", "0")
        monkeypatch.setenv("SOURCES__CLINICALTRIALS__WINDOW_DAYS", "100000")
        monkeypatch.setenv("SOURCES__CLINICALTRIALS__RESYNC_BATCH", "0")

        result = land_clinicaltrials(database)

        assert result.rows == {"studies": 5}
        assert len(seen) == 1
        assert KEY not in json.dumps(seen)
        assert httpserver.log[0][0].args["api_key"] == KEY  # the API itself got it
    finally:
        other.clear()
        other.stop()


def test_a_bulk_folder_linking_outside_itself_is_refused(database, tmp_path: Path):
    folder = release(tmp_path / "release", GOOD_STUDY)
    outside = tmp_path / "private.json"
    outside.write_bytes(GOOD_STUDY.read_bytes())
    (folder / "NCT00000001.json").symlink_to(outside)

    with pytest.raises(MalformedInput, match="links to files outside it") as refused:
        land_clinicaltrials(database, bulk_location=str(folder))

    assert f"{folder / 'NCT00000001.json'} -> {outside}" in str(refused.value)
    assert query(database, "select count(*) from raw_clinicaltrials.studies") == [(0,)]


def test_a_truncated_pubmed_gzip_names_the_byte(database, tmp_path: Path):
    truncated = DERIVED / "pubmed" / "derived" / "pubmed26n1335_truncated.xml.gz"
    folder = release(tmp_path / "pubmed", truncated)

    land_pubmed(database, bulk_location=str(folder))

    (problem,) = rejects(database, "pubmed").values()
    assert "the gzip stream breaks after" in problem and "bytes of XML" in problem
