"""FDA Orange Book extract: the real dlt pipeline into a real PostgreSQL, from FDA's real
release zip (as a bulk file, and served over HTTP on 127.0.0.1 in place of FDA's URL),
and from variants derived from it (tests/fixtures/orangebook/derived/)."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path

import orjson
import pytest
from werkzeug import Request, Response

from extract.bulk import NoReleaseFiles, Outcome, iter_members, signature
from extract.errors import PublisherUnavailable
from extract.orangebook.helpers import landing_table, read_release_file, release_file_of
from medmirror.settings import SAMPLES_DIR, ConnectionInfo
from tests.conftest import DERIVED, build_models, land_source, query
from tests.extract.legacy_state import write_legacy_state

RELEASE = SAMPLES_DIR / "orangebook" / "orange_book_2024-05.zip"
EXCERPT = DERIVED / "orangebook" / "derived" / "orange_book_excerpt.zip"
LATER = DERIVED / "orangebook" / "derived" / "orange_book_later.zip"
RAGGED = DERIVED / "orangebook" / "derived" / "orange_book_ragged.zip"
TRUNCATED = DERIVED / "orangebook" / "derived" / "orange_book_truncated.zip"
BAD_FILES = DERIVED / "orangebook" / "derived" / "orange_book_bad_files.zip"
TABLES = {"products": "products.txt", "patents": "patent.txt", "exclusivities": "exclusivity.txt"}
RELEASE_PATH = "/media/76860/download"


def build(connection: ConnectionInfo) -> None:
    """The Orange Book marts, built as a refresh of the Orange Book builds them (the drug
    marts it also feeds have tests of their own)."""
    marts = ("orange_book_products", "orange_book_patents", "orange_book_exclusivities")
    build_models(connection, *marts, sources=["orangebook"])


def data_lines(archive: Path) -> dict[str, int]:
    """Lines after the header in each file of a release zip (the last has no line end)."""
    with zipfile.ZipFile(archive) as release:
        return {
            table: len(release.read(name).rstrip(b"\r\n").split(b"\r\n")) - 1
            for table, name in TABLES.items()
        }


def raw_counts(connection: ConnectionInfo) -> dict[str, int]:
    return {
        table: query(connection, f"select count(*) from raw_orangebook.{table}")[0][0]  # noqa: S608
        for table in TABLES
    }


def rejects(connection: ConnectionInfo) -> list[tuple[str, str]]:
    return query(connection, "select source_uri, problem from raw_orangebook.rejects order by 1, 2")


# -- the real release ------------------------------------------------------------------


def test_the_real_release_lands_every_line_and_an_unchanged_one_is_skipped(database):
    expected = data_lines(RELEASE)
    assert expected == {"products": 44949, "patents": 18578, "exclusivities": 2089}

    result = land_source(database, "orangebook", bulk_location=str(RELEASE))

    assert result.rows == expected
    assert raw_counts(database) == expected
    assert result.rejected == 0
    assert result.windows == 3  # one committed window per file
    (product,) = query(
        database,
        "select record, source_uri, release, approval_date, deleted "
        "from raw_orangebook.products where appl_no = '205613' and product_no = '001'",
    )
    assert product[0] == {
        "ingredient": "BUDESONIDE",
        "df_route": "AEROSOL, FOAM;RECTAL",
        "trade_name": "UCERIS",
        "applicant": "SALIX",
        "strength": "2MG/ACTUATION",
        "appl_type": "N",
        "appl_no": "205613",
        "product_no": "001",
        "te_code": "AB",
        "approval_date": "Oct 7, 2014",
        "rld": "Yes",
        "rs": "Yes",
        "type": "RX",
        "applicant_full_name": "SALIX PHARMACEUTICALS INC",
    }
    assert product[1] == f"{RELEASE}!products.txt"
    assert product[2] == datetime(2024, 5, 10, 9, 33, 12)  # the newest file in the zip
    assert product[3] == date(2014, 10, 7)
    assert product[4] is False
    # A quoted field ("HY-PAM ""25""") is read as CSV; the pre-1982 approvals leave the
    # cursor empty without failing; `medmirror status` shows the newest approval.
    assert query(
        database,
        "select record ->> 'trade_name' from raw_orangebook.products where appl_no = '088713'",
    ) == [('HY-PAM "25"',)]
    assert query(
        database,
        "select count(*) filter (where approval_date is null), max(approval_date) "
        "from raw_orangebook.products",
    ) == [(5870, date(2024, 5, 9))]
    assert query(database, "select distinct release from raw_orangebook.exclusivities") == [
        (datetime(2024, 5, 10, 9, 33, 12),)
    ]

    again = land_source(database, "orangebook", bulk_location=str(RELEASE))

    assert again.total_rows == 0
    assert raw_counts(database) == expected
    assert again.files.count(Outcome.ALREADY_LANDED) == 3


def test_a_later_release_replaces_the_earlier_one_in_the_marts(database):
    land_source(
        database, "orangebook", bulk_location=str(EXCERPT)
    )  # 300 products of the real release
    later = land_source(database, "orangebook", bulk_location=str(LATER))

    build(database)

    assert (
        later.rows
        == data_lines(LATER)
        == {
            "products": 299,
            "patents": 167,
            "exclusivities": 4,
        }
    )
    assert query(database, "select count(*) from raw_orangebook.products") == [(300 + 299,)]
    assert query(database, "select count(*) from marts.orange_book_products") == [(299,)]
    assert query(database, "select count(*) from marts.orange_book_patents") == [(167,)]
    # UCERIS was RX, AB and a reference standard; the later release discontinues it.
    assert query(
        database,
        "select marketing_status, te_code, is_reference_standard, released_at "
        "from marts.orange_book_products where product_id = 'N205613-001'",
    ) == [("DISCN", None, False, datetime(2024, 6, 10, 9, 33, 12))]
    # AMZEEQ and its 12 patents are gone from the later release, so from the marts.
    assert query(
        database, "select count(*) from marts.orange_book_products where appl_no = '212379'"
    ) == [(0,)]
    assert query(
        database, "select count(*) from marts.orange_book_patents where appl_no = '212379'"
    ) == [(0,)]


# -- bad files ---------------------------------------------------------------------------


def test_a_ragged_row_is_rejected_with_its_line_and_the_rest_lands(database):
    result = land_source(database, "orangebook", bulk_location=str(RAGGED))

    assert result.rejected == 1
    assert result.rows == {"products": 299, "patents": 179, "exclusivities": 4}
    ((uri, problem),) = rejects(database)
    assert uri == f"{RAGGED}!products.txt"
    assert problem.startswith("line 42: expected 14 fields, found 13 (skipped)")
    assert "~OLUX E~MYLAN~0.05%~N~022013~001~" in problem  # the line as published


def test_a_truncated_zip_is_rejected_by_name(database):
    result = land_source(database, "orangebook", bulk_location=str(TRUNCATED))

    assert result.rejected == 1
    assert result.total_rows == 0
    ((uri, problem),) = rejects(database)
    assert uri == str(TRUNCATED)
    assert "not a readable zip" in problem


def test_an_empty_file_and_invalid_utf8_are_rejected_with_where_and_the_rest_lands(database):
    result = land_source(database, "orangebook", bulk_location=str(BAD_FILES))

    assert result.rows == {"products": 300}
    assert result.rejected == 2
    found = dict(rejects(database))
    assert "empty file" in found[f"{BAD_FILES}!exclusivity.txt"]
    assert found[f"{BAD_FILES}!patent.txt"].startswith("not valid UTF-8 at line 57")


def test_an_unzipped_release_lands_and_a_folder_without_one_is_rejected(database, tmp_path: Path):
    folder = tmp_path / "release"
    with zipfile.ZipFile(EXCERPT) as release:
        release.extractall(folder)
    (folder / "readme.txt").write_text("not a release file")

    result = land_source(database, "orangebook", bulk_location=str(folder))

    assert result.rows == data_lines(EXCERPT)
    assert result.rejected == 0
    assert query(database, "select distinct source_uri from raw_orangebook.patents") == [
        (str(folder / "patent.txt"),)
    ]
    assert result.files.files[str(folder / "readme.txt")].outcome == Outcome.NOT_RELEASE_FILE
    empty = tmp_path / "empty"
    empty.mkdir()

    with pytest.raises(NoReleaseFiles, match="the bulk location holds no files"):
        land_source(database, "orangebook", bulk_location=str(empty))

    # A folder of files none of which is a release file fails the run too, naming them.
    (empty / "readme.txt").write_text("not a release file")
    with pytest.raises(NoReleaseFiles, match="none of the 1 files offered is a release file"):
        land_source(database, "orangebook", bulk_location=str(empty))


def test_every_file_offered_is_accounted_for(database, tmp_path: Path):
    folder = tmp_path / "release"
    folder.mkdir()
    shutil.copyfile(EXCERPT, folder / EXCERPT.name)
    (folder / "README.txt").write_text("Orange Book files, downloaded monthly\n")
    # Another publisher's delimited file (FAERS, `$`-delimited): not an Orange Book file.
    with zipfile.ZipFile(SAMPLES_DIR / "faers" / "faers_ascii_2017q2_subset.zip") as faers:
        (folder / "DRUG17Q2.txt").write_bytes(faers.read("ascii/DRUG17Q2.txt"))

    result = land_source(database, "orangebook", bulk_location=str(folder))

    outcomes = {uri.split("/")[-1]: found.outcome for uri, found in result.files.files.items()}
    assert outcomes == {
        "DRUG17Q2.txt": Outcome.NOT_RELEASE_FILE,
        "README.txt": Outcome.NOT_RELEASE_FILE,
        f"{EXCERPT.name}!exclusivity.txt": Outcome.LANDED,
        f"{EXCERPT.name}!patent.txt": Outcome.LANDED,
        f"{EXCERPT.name}!products.txt": Outcome.LANDED,
    }
    assert result.rows == data_lines(EXCERPT)


def test_the_files_land_by_their_header_whatever_they_are_named(database, tmp_path: Path):
    # The excerpt's three files, unzipped and renamed as a site might keep them (their
    # content unchanged): each is recognised by its header line.
    folder = tmp_path / "release"
    folder.mkdir()
    with zipfile.ZipFile(EXCERPT) as release:
        for name in TABLES.values():
            (folder / f"orange_book_2024-05_{name.upper()}").write_bytes(release.read(name))

    result = land_source(database, "orangebook", bulk_location=str(folder))

    assert result.rows == data_lines(EXCERPT)
    assert result.rejected == 0


def test_an_upgrade_keeps_the_release_the_older_ledger_landed(database):
    # The state medmirror's own Orange Book ledger kept before BulkLedger: the signature
    # of the release it landed last (names, sizes and CRCs of its text files).
    landed = signature(EXCERPT, source="orangebook", suffixes=(".txt",))
    write_legacy_state(database, "orangebook", "release_files", {"landed_release": landed})

    again = land_source(database, "orangebook", bulk_location=str(EXCERPT))

    assert again.total_rows == 0
    assert again.files.count(Outcome.ALREADY_LANDED) == 3


# -- FDA's URL -------------------------------------------------------------------------


class ReleaseServer:
    """FDA's current-release URL on 127.0.0.1: answers queued in order, then the release
    last queued again and again (as FDA serves the same release all month)."""

    def __init__(self, httpserver) -> None:
        self.url = httpserver.url_for(RELEASE_PATH)
        self.answers: list[Response] = []
        self.last: Response | None = None
        self.requests = 0
        httpserver.expect_request(RELEASE_PATH).respond_with_handler(self._answer)

    def serve(self, release: Path) -> None:
        self.answers.append(
            Response(release.read_bytes(), status=200, content_type="application/zip")
        )

    def _answer(self, request: Request) -> Response:
        self.requests += 1
        if self.answers:
            answer = self.answers.pop(0)
            if answer.status_code == 200:
                self.last = answer
            return answer
        return self.last or Response("nothing queued", status=500)


@pytest.fixture
def release_server(httpserver, monkeypatch: pytest.MonkeyPatch) -> ReleaseServer:
    server = ReleaseServer(httpserver)
    monkeypatch.setenv("SOURCES__ORANGEBOOK__RELEASE_URL", server.url)
    monkeypatch.setenv("SOURCES__ORANGEBOOK__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "5")
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "10")
    return server


def test_the_current_release_is_downloaded_after_a_5xx_and_fetched_again_each_run(
    database, release_server: ReleaseServer
):
    release_server.answers.append(Response("busy", status=503))
    release_server.serve(EXCERPT)

    first = land_source(database, "orangebook")  # no arguments: FDA's current release

    assert release_server.requests == 2  # the 503 was retried
    assert first.rows == data_lines(EXCERPT)
    ((uri,),) = query(database, "select distinct source_uri from raw_orangebook.products")
    assert uri.endswith("downloads/orangebook/orange_book.zip!products.txt")

    unchanged = land_source(database, "orangebook")  # downloaded again, found unchanged

    assert release_server.requests == 3
    assert unchanged.total_rows == 0

    release_server.serve(LATER)  # FDA publishes the next month's release
    later = land_source(database, "orangebook")

    assert later.rows == data_lines(LATER)
    assert query(database, "select distinct release from raw_orangebook.products order by 1") == [
        (datetime(2024, 5, 10, 9, 33, 12),),
        (datetime(2024, 6, 10, 9, 33, 12),),
    ]


def test_a_url_that_keeps_failing_names_the_source_and_the_status(
    database, release_server: ReleaseServer
):
    release_server.answers += [Response("busy", status=503) for _ in range(3)]

    with pytest.raises(PublisherUnavailable) as failed:
        land_source(database, "orangebook")

    assert str(failed.value).startswith(f"orangebook: bulk file {release_server.url}: ")
    assert "503 after 3 attempts" in str(failed.value)


def test_every_record_is_valid_json_with_every_field_of_its_line():
    """`record` is built by Arrow string kernels, not a JSON library: check it is JSON."""
    with zipfile.ZipFile(RELEASE) as release:
        header = release.read("patent.txt").split(b"\r\n", 1)[0].decode().split("~")
    for member in iter_members(RELEASE, source="orangebook", suffixes=(".txt",)):
        release_file = release_file_of(member)
        table = landing_table(
            read_release_file(member, release_file),
            release_file,
            source_uri=member.uri,
            release=datetime(2024, 5, 10),
        )
        records = [orjson.loads(text) for text in table["record"].to_pylist()]
        assert len(records) == data_lines(RELEASE)[release_file.table]
        if release_file.table == "patents":
            assert list(records[0]) == [name.lower() for name in header]
            assert records[0]["patent_no"] == "7625884"
