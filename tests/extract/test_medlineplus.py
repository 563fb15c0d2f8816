"""MedlinePlus health topics extract: the real dlt pipeline into a real PostgreSQL, from
NLM's real health topics XML (samples/medlineplus/), as a file, a folder, a zip and over
HTTP on 127.0.0.1 (NLM's XML page and file URL), and from variants derived from it
(tests/fixtures/medlineplus/derived/)."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date
from pathlib import Path

from lxml import etree
from werkzeug import Response

from extract.bulk import Outcome
from flows.dbt_runner import build_sources
from medmirror.settings import SAMPLES_DIR, ConnectionInfo
from tests.conftest import DERIVED, land_source, query
from tests.extract.legacy_state import write_legacy_state

TOPICS_FILE = SAMPLES_DIR / "medlineplus" / "mplus_topics_2012-07-21.xml"
LATER = DERIVED / "medlineplus" / "derived" / "mplus_topics_2012-07-22.xml"  # 3062 removed
TRUNCATED = DERIVED / "medlineplus" / "derived" / "mplus_topics_2012-07-23.xml"


def build(connection: ConnectionInfo) -> None:
    build_sources(connection, ["medlineplus"])


def topics_in(path: Path) -> list[tuple[str, str]]:
    """(id, language) of every health-topic in the file, read with plain lxml."""
    root = etree.parse(str(path), etree.XMLParser(load_dtd=False, no_network=True)).getroot()
    return [(topic.get("id"), topic.get("language")) for topic in root.iter("health-topic")]


def test_the_real_file_lands_one_row_per_topic_and_a_rerun_adds_nothing(database):
    expected = topics_in(TOPICS_FILE)
    assert expected == [("3061", "English"), ("3062", "Spanish")]

    result = land_source(database, "medlineplus", bulk_location=str(TOPICS_FILE))

    assert result.rows == {"health_topics": len(expected)}
    assert result.rejected == 0
    assert query(
        database,
        "select topic_id, language, file_date, source_uri, deleted "
        "from raw_medlineplus.health_topics order by topic_id",
    ) == [
        ("3061", "English", date(2012, 7, 21), str(TOPICS_FILE), False),
        ("3062", "Spanish", date(2012, 7, 21), str(TOPICS_FILE), False),
    ]
    (record,) = query(
        database, "select record from raw_medlineplus.health_topics where topic_id = '3061'"
    )[0]
    assert record["title"] == "Abdominal Pain"
    assert record["date_created"] == "01/07/2003"
    assert record["also_called"] == ["Bellyache"]
    assert record["summary_text"].startswith("Your abdomen extends from below your chest")
    assert "<li>" not in record["summary_text"]
    assert record["full_summary"].startswith("<p>Your abdomen extends")  # markup kept
    assert [group["name"] for group in record["groups"]] == ["Digestive System", "Symptoms"]
    assert record["mesh_headings"] == [
        {"descriptor_id": "D015746", "descriptor": "Abdominal Pain", "qualifiers": []}
    ]
    assert [topic["id"] for topic in record["related_topics"]] == ["351", "4486"]
    assert record["language_mapped_topics"][0]["id"] == "3062"
    assert record["see_references"] == ["Bellyache", "Pain, Abdominal", "Stomach Ache"]
    sites = [site["title"] for site in record["sites"]]
    assert len(sites) == etree.parse(str(TOPICS_FILE)).getroot()[0].findall("site").__len__()
    assert record["sites"][2]["organizations"] == ["National Headache Foundation"]

    again = land_source(database, "medlineplus", bulk_location=str(TOPICS_FILE))

    assert again.total_rows == 0
    assert query(database, "select count(*) from raw_medlineplus.health_topics") == [(2,)]


def test_a_newer_file_replaces_the_topic_set_and_an_older_one_is_not_landed(database):
    assert len(topics_in(LATER)) == 1
    land_source(database, "medlineplus", bulk_location=str(TOPICS_FILE))
    later = land_source(database, "medlineplus", bulk_location=str(LATER))
    older = land_source(database, "medlineplus", bulk_location=str(TOPICS_FILE))

    build(database)

    assert later.rows == {"health_topics": 1}
    assert older.total_rows == 0
    assert query(database, "select topic_id, file_date from marts.health_topics") == [
        ("3061", date(2012, 7, 22))
    ]


def test_a_folder_lands_its_newest_files_in_date_order_and_a_broken_one_is_rejected(
    database, tmp_path: Path
):
    folder = tmp_path / "medlineplus"
    folder.mkdir()
    for path in (TOPICS_FILE, LATER, TRUNCATED):
        (folder / path.name).write_bytes(path.read_bytes())

    result = land_source(database, "medlineplus", bulk_location=str(folder))

    assert result.rows == {"health_topics": 3}  # 2 topics of the 21st, 1 of the 22nd
    assert result.rejected == 1
    ((uri, problem),) = query(database, "select source_uri, problem from raw_medlineplus.rejects")
    assert uri == str(folder / TRUNCATED.name)
    assert problem.startswith("not valid XML at line")
    # Nothing of the broken file landed: the 22nd stays the current file.
    assert query(
        database, "select distinct file_date from raw_medlineplus.health_topics order by 1"
    ) == [(date(2012, 7, 21),), (date(2012, 7, 22),)]
    assert land_source(database, "medlineplus", bulk_location=str(folder)).total_rows == 0


def test_the_xml_page_links_the_current_zipped_file_which_is_fetched_once(
    database, httpserver, tmp_path: Path, monkeypatch
):
    archive = tmp_path / "mplus_topics_compressed_2012-07-21.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(TOPICS_FILE, "mplus_topics_2012-07-21.xml")
    page = (
        '<html><body><a href="xml/mplus_topics_2012-07-21.xml">Health topics XML</a> '
        '<a href="xml/mplus_topics_compressed_2012-07-21.zip">zipped</a>'
        '<a href="xml/mplus_topics_2012-07-20.xml">yesterday</a></body></html>'
    )
    httpserver.expect_request("/xml.html").respond_with_data(page, content_type="text/html")
    httpserver.expect_request("/xml/mplus_topics_compressed_2012-07-21.zip").respond_with_response(
        Response(archive.read_bytes(), content_type="application/zip")
    )
    monkeypatch.setenv("SOURCES__MEDLINEPLUS__REQUESTS_PER_SECOND", "0")

    first = land_source(database, "medlineplus", xml_page_url=httpserver.url_for("/xml.html"))
    again = land_source(database, "medlineplus", xml_page_url=httpserver.url_for("/xml.html"))

    assert first.rows == {"health_topics": 2}
    assert again.total_rows == 0
    fetched = [request.path for request, _ in httpserver.log]
    assert fetched.count("/xml/mplus_topics_compressed_2012-07-21.zip") == 1
    assert query(database, "select distinct source_uri from raw_medlineplus.health_topics")[0][
        0
    ].endswith("mplus_topics_compressed_2012-07-21.zip!mplus_topics_2012-07-21.xml")


def test_every_file_offered_is_accounted_for(database, tmp_path: Path):
    folder = tmp_path / "medlineplus"
    folder.mkdir()
    for path in (TOPICS_FILE, LATER):
        shutil.copyfile(path, folder / path.name)
    (folder / "README.txt").write_text("MedlinePlus XML files, copied weekly\n")
    # Another publisher's XML (PubMed's E-utilities answer): not a health topics file.
    shutil.copy(SAMPLES_DIR / "pubmed" / "efetch_pubmed_11748933.xml", folder)

    result = land_source(database, "medlineplus", bulk_location=str(folder))

    outcomes = {uri.split("/")[-1]: found.outcome for uri, found in result.files.files.items()}
    assert outcomes == {
        "README.txt": Outcome.NOT_RELEASE_FILE,
        "efetch_pubmed_11748933.xml": Outcome.NOT_RELEASE_FILE,
        TOPICS_FILE.name: Outcome.LANDED,
        LATER.name: Outcome.LANDED,
    }
    assert result.rows == {"health_topics": 3}

    shutil.copyfile(TOPICS_FILE, folder / "mplus_topics_2012-07-20.xml")  # an older copy
    again = land_source(database, "medlineplus", bulk_location=str(folder))

    assert again.total_rows == 0
    assert again.files.count(Outcome.ALREADY_LANDED) == 3
    assert again.files.files[str(folder / "mplus_topics_2012-07-20.xml")].reason == (
        "not newer than the 2012-07-22 file landed"
    )


def test_a_topics_file_without_a_date_in_its_name_lands_by_its_root(database, tmp_path: Path):
    # The real file renamed as a site might keep it: its date comes from the root's
    # date-generated (07/21/2012).
    renamed = tmp_path / "health_topics_current.xml"
    renamed.write_bytes(TOPICS_FILE.read_bytes())

    result = land_source(database, "medlineplus", bulk_location=str(renamed))

    assert result.rows == {"health_topics": 2}
    assert query(database, "select distinct file_date from raw_medlineplus.health_topics") == [
        (date(2012, 7, 21),)
    ]


def test_an_upgrade_keeps_the_file_the_older_cursor_landed(database):
    # The state medmirror's own MedlinePlus cursor kept before BulkLedger.
    write_legacy_state(
        database,
        "medlineplus",
        "health_topics",
        {"newest_file_date": "2012-07-21", "passed_undated": []},
    )

    result = land_source(database, "medlineplus", bulk_location=str(TOPICS_FILE))

    assert result.total_rows == 0
    (offered,) = result.files.files.values()
    assert offered.outcome == Outcome.ALREADY_LANDED
