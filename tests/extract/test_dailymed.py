"""DailyMed extract: the real dlt pipeline into a real PostgreSQL, on real SPL labels (bulk
from a folder and from a release zip of per-label zips), and DailyMed's web services
replayed over HTTP on 127.0.0.1 (the real SPL XML as the per-set-id answers; the list
pages and histories are constructed from DailyMed's documentation and the real XML
page: see tests/fixtures/dailymed/derive.py)."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import orjson
import pytest
from werkzeug import Request, Response

from extract.bulk import Outcome
from extract.dailymed.release import SplFile, spl_files
from extract.dailymed.spl import parse_spl
from flows.reconcile import reconcile
from medmirror.settings import SAMPLES_DIR, ConnectionInfo
from tests.conftest import error_response, land_source, query
from tests.extract.legacy_state import write_legacy_state

SAMPLES = SAMPLES_DIR / "dailymed"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "dailymed"
DERIVED = FIXTURES / "derived"
PER_LABEL_ZIP = next(FIXTURES.glob("spl_zip_*.zip"))
V3 = "{urn:hl7-org:v3}"

HUMIRA = "608d4f0d-b19f-46d3-749a-7159aa5f933d"
LIPITOR = "c6e131fe-e7df-4876-83f7-9156fc4e8228"
LIPITOR_REPACK = "17a163ef-b349-4e32-bc8c-b02bac7f65d6"
NO_TITLE = "0027b8a3-73bf-4005-a7e3-b035f451a861"
OTC = "00f66f25-3469-4c16-9baf-fba21e9628bd"
METHOXSALEN = "ea1a6225-0eb9-4743-9601-23d5795936a3"
ROGAINE = "1b5e2860-6855-4a65-8bbc-e064172a1adf"  # the set id the per-label zip is named by
SAMPLE_SET_IDS = sorted([HUMIRA, LIPITOR, LIPITOR_REPACK, NO_TITLE, OTC, METHOXSALEN])


def landed_labels(connection: ConnectionInfo) -> list[tuple]:
    return query(connection, "select set_id, version from raw_dailymed.labels order by 1, 2")


def rejects(connection: ConnectionInfo) -> list[tuple[str, str]]:
    return query(connection, "select source_uri, problem from raw_dailymed.rejects order by 1")


def set_id_of(path: Path) -> str:
    return ElementTree.parse(path).getroot().find(f"{V3}setId").get("root")


def per_label_zip(folder: Path, xml: Path) -> Path:
    """A per-label zip as DailyMed's releases hold them: `<date>_<set id>.zip`."""
    target = folder / f"20240101_{set_id_of(xml)}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(xml, f"{set_id_of(xml)}.xml")
    return target


def release_zip(tmp_path: Path, *extra: tuple[str, bytes]) -> Path:
    """A release archive built from the real files: a zip of per-label zips (the six
    samples and the real per-label zip with its JPEG), plus `extra` members."""
    work = tmp_path / "inner"
    work.mkdir(exist_ok=True)
    release = tmp_path / "dm_spl_release_human_rx_part1.zip"
    with zipfile.ZipFile(release, "w", zipfile.ZIP_DEFLATED) as archive:
        for xml in sorted(SAMPLES.glob("*.xml")):
            inner = per_label_zip(work, xml)
            archive.write(inner, f"prescription/{inner.name}")
        archive.write(PER_LABEL_ZIP, f"otc/20160312_{ROGAINE}_1.zip")
        for name, content in extra:
            archive.writestr(name, content)
    return release


# -- bulk ---------------------------------------------------------------------------------


def test_bulk_folder_lands_every_label_its_products_and_sections(database):
    result = land_source(database, "dailymed", bulk_location=str(SAMPLES))

    assert result.rows == {"labels": 6, "pharmacologic_classes": 1}
    assert result.rejected == 0
    assert [set_id for set_id, _ in landed_labels(database)] == SAMPLE_SET_IDS

    # The Lipitor original and its repackager: two labels, each with its own products.
    products = dict(
        query(
            database,
            """
            select set_id,
                   jsonb_agg(product ->> 'ndc_product_code' order by product ->> 'ndc_product_code')
            from raw_dailymed.labels, jsonb_array_elements(record -> 'products') as product
            where set_id in (%s, %s) group by set_id
            """,
            LIPITOR,
            LIPITOR_REPACK,
        )
    )
    assert products == {
        LIPITOR: ["0071-0155", "0071-0156", "0071-0157", "0071-0158"],
        LIPITOR_REPACK: ["55289-800"],
    }
    moieties = query(
        database,
        """
        select set_id, array_agg(distinct moiety ->> 'unii'), array_agg(distinct moiety ->> 'name')
        from raw_dailymed.labels,
             jsonb_array_elements(record -> 'products') as product,
             jsonb_array_elements(product -> 'active_ingredients') as ingredient,
             jsonb_array_elements(ingredient -> 'active_moieties') as moiety
        where set_id in (%s, %s) group by set_id order by set_id
        """,
        LIPITOR,
        LIPITOR_REPACK,
    )
    assert moieties == [
        (LIPITOR_REPACK, ["A0JWA85V8F"], ["atorvastatin"]),
        (LIPITOR, ["A0JWA85V8F"], ["ATORVASTATIN"]),
    ]
    (repack,) = query(
        database,
        "select record -> 'products' -> 0, record -> 'labeler' from raw_dailymed.labels "
        "where set_id = %s",
        LIPITOR_REPACK,
    )
    product, labeler = repack
    assert labeler == {
        "name": "PD-Rx Pharmaceuticals, Inc.",
        "duns": "156893695",
        "id": "156893695",
    }
    assert product["application_number"] == "NDA020702"
    assert product["marketing_category"]["name"] == "NDA"
    assert product["marketing_start_date"] == "1996-12-17"
    assert product["dosage_form"]["name"] == "TABLET, FILM COATED"
    assert product["routes"][0]["name"] == "ORAL"
    assert product["packages"] == [
        {
            "ndc_package_code": "55289-800-30",
            "package_form": {
                "code": "C43173",
                "name": "BOTTLE, PLASTIC",
                "code_system": "2.16.840.1.113883.3.26.1.1",
            },
            "quantity": "30",
            "quantity_unit": "TABLET",
            "description": "30 TABLET in 1 BOTTLE, PLASTIC (55289-800-30)",
        }
    ]
    assert product["active_ingredients"][0]["strength"] == {
        "numerator_value": "20",
        "numerator_unit": "mg",
        "denominator_value": "1",
        "denominator_unit": "1",
    }
    assert len(product["inactive_ingredients"]) == 12

    # HUMIRA: the sections under 8 USE IN SPECIFIC POPULATIONS, each by its own code.
    humira = dict(
        query(
            database,
            """
            select section ->> 'code', section
            from raw_dailymed.labels, jsonb_array_elements(record -> 'sections') as section
            where set_id = %s and section ->> 'code' in
                ('42228-7', '34080-2', '34081-0', '34082-8', '43684-0', '34066-1')
            """,
            HUMIRA,
        )
    )
    assert sorted(humira) == ["34066-1", "34080-2", "34081-0", "34082-8", "42228-7", "43684-0"]
    for code, title in [
        ("42228-7", "8.1 Pregnancy"),
        ("34080-2", "8.3 Nursing Mothers"),
        ("34081-0", "8.4 Pediatric Use"),
        ("34082-8", "8.5 Geriatric Use"),
    ]:
        assert humira[code]["title"] == title
        assert humira[code]["parent_code"] == "43684-0"
        assert humira[code]["path"] == ["43684-0"]
        assert len(humira[code]["text"]) > 200
    assert humira["42228-7"]["text"].startswith("Pregnancy Category B")
    assert "adalimumab is present in low levels in human milk" in humira["34080-2"]["text"]
    assert humira["34066-1"]["text"].startswith("SERIOUS INFECTIONS")

    # The label without section titles: its sections land by code, text and all.
    untitled = query(
        database,
        """
        select section ->> 'code', section ->> 'title', length(section ->> 'text')
        from raw_dailymed.labels, jsonb_array_elements(record -> 'sections') as section
        where set_id = %s and section ->> 'code' in ('34081-0', '34082-8')
        """,
        NO_TITLE,
    )
    assert sorted(code for code, _, _ in untitled) == ["34081-0", "34082-8"]
    assert all(length and length > 50 for _, _, length in untitled)

    # The indexing SPL: its substance and classes in their own table.
    (indexing,) = query(
        database,
        "select set_id, version, unii, record from raw_dailymed.pharmacologic_classes",
    )
    assert indexing[:3] == (METHOXSALEN, 1, "U4VJ29L7BQ")
    classes = {(c["code"], c["name"], c["class_type"]) for c in indexing[3]["substance"]["classes"]}
    assert classes == {
        ("N0000010217", "Photoabsorption", "MoA"),
        ("N0000175984", "Photoactivated Radical Generator", "EPC"),
        ("N0000009801", "Photosensitizing Activity", "PE"),
        ("N0000175879", "Psoralen", "EPC"),
        ("N0000007909", "Psoralens", "CS"),
    }

    # A rerun lands nothing: every file is in the ledger.
    again = land_source(database, "dailymed", bulk_location=str(SAMPLES))
    assert again.total_rows == 0 and again.rejected == 0
    assert len(landed_labels(database)) == 6


def test_bulk_release_zip_of_per_label_zips_reads_only_xml_and_rejects_bad_members(
    database, tmp_path
):
    cut = (DERIVED / "spl_otc_cough_cut.xml").read_bytes()
    no_set_id = (DERIVED / "spl_no_title_without_setid.xml").read_bytes()
    release = release_zip(
        tmp_path,
        ("prescription/20240102_cut.xml", cut),
        ("prescription/20240103_nosetid.xml", no_set_id),
        ("prescription/20240104_notazip.zip", b"this is not a zip archive"),
        ("prescription/readme.txt", b"not an SPL: never read"),
    )

    result = land_source(database, "dailymed", bulk_location=str(release))

    # Six sample labels + the Rogaine label of the real per-label zip (its JPEG unread).
    assert result.rows == {"labels": 7, "pharmacologic_classes": 1}
    assert len(landed_labels(database)) == 7
    ((rogaine_uri,),) = query(
        database,
        "select source_uri from raw_dailymed.labels where source_uri like %s",
        f"%{ROGAINE}%",
    )
    assert rogaine_uri.endswith("!ab36b844-19de-4340-b32b-5e3abdaa5895.xml")
    problems = rejects(database)
    assert len(problems) == 3
    assert result.rejected == 3
    by_name = {uri.rsplit("!", 1)[-1] if "!" in uri else uri: problem for uri, problem in problems}
    assert re.match(
        r"not valid XML at line \d+, column \d+", by_name["prescription/20240102_cut.xml"]
    )
    assert by_name["prescription/20240103_nosetid.xml"] == "an SPL document without a setId"
    assert "not a readable zip" in by_name["prescription/20240104_notazip.zip"]

    again = land_source(database, "dailymed", bulk_location=str(release))
    assert again.total_rows == 0 and again.rejected == 0


def test_a_truncated_release_zip_lands_the_labels_it_still_holds(database, tmp_path):
    release = release_zip(tmp_path)
    with zipfile.ZipFile(release) as archive:
        infos = archive.infolist()
    # Cut inside the fourth per-label zip: the first three are whole, the directory is gone.
    fourth = infos[3]
    cut_at = fourth.header_offset + 200
    truncated = tmp_path / "dm_spl_daily_update_truncated.zip"
    truncated.write_bytes(release.read_bytes()[:cut_at])

    result = land_source(database, "dailymed", bulk_location=str(truncated))
    assert result.rejected == 1

    whole = [
        set_id_of(SAMPLES / name) for name in sorted(p.name for p in SAMPLES.glob("*.xml"))[:3]
    ]
    assert sorted(set_id for set_id, _ in landed_labels(database)) == sorted(whole)
    ((uri, problem),) = rejects(database)
    assert uri == f"{truncated}!{infos[3].filename}"
    assert problem.startswith("not a readable zip")
    assert "the archive ends inside this member" in problem


def test_bulk_windows_commit_and_resume(database, tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    shutil.copy(release_zip(tmp_path), folder / "dm_spl_release_part1.zip")
    per_label_zip(folder, SAMPLES / "spl_otc_cough_20110426.xml")

    result = land_source(database, "dailymed", bulk_location=str(folder), bulk_labels_per_window=2)

    # 7 labels in the release zip (windows of 2) and 1 in the per-label zip beside it: the
    # cough label the release holds too, the same version, kept once in raw.
    assert result.windows == 5
    assert result.rows == {"labels": 7, "pharmacologic_classes": 1}
    assert result.repeated == {"labels": 1}
    assert len(landed_labels(database)) == 7


def test_labels_in_batches_of_a_few_bytes_land_the_same_rows(database, tmp_path, monkeypatch):
    # Every label its own Arrow batch (a label is more than one byte): the rows landed are
    # those of the labels parsed one by one, none lost or repeated at a batch's end.
    monkeypatch.setattr("extract.dailymed.BATCH_BYTES", 1)
    release = release_zip(tmp_path)

    result = land_source(database, "dailymed", bulk_location=str(release))

    assert result.rows == {"labels": 7, "pharmacologic_classes": 1}
    expected = sorted(
        (record["set_id"], record["version"], record)
        for record in (
            parse_spl(item.read(), where=item.uri)
            for item in spl_files(release)
            if isinstance(item, SplFile)
        )
    )
    landed = query(
        database, "select set_id, version, record from raw_dailymed.labels order by 1, 2"
    )
    assert [(set_id, version) for set_id, version, _ in landed] == [
        (set_id, version) for set_id, version, _ in expected
    ]
    assert [record for _, _, record in landed] == [
        orjson.loads(orjson.dumps(record)) for _, _, record in expected
    ]


def test_every_top_level_file_offered_is_accounted_for_with_its_members(database, tmp_path):
    folder = tmp_path / "dailymed"
    folder.mkdir()
    release = release_zip(
        tmp_path,
        ("prescription/20240102_cut.xml", (DERIVED / "spl_otc_cough_cut.xml").read_bytes()),
        ("prescription/readme.txt", b"not an SPL: never read"),
    )
    shutil.copy(release, folder)
    (folder / "README.txt").write_text("DailyMed release files, monthly\n")
    # Another publisher's XML (MedlinePlus): not an SPL document, by its root element.
    shutil.copy(SAMPLES_DIR / "medlineplus" / "mplus_topics_2012-07-21.xml", folder)
    # A real SPL saved under a name of its own: an SPL document, by its root element.
    shutil.copy(SAMPLES / "spl_otc_cough_20110426.xml", folder / "cough-syrup-label.xml")

    result = land_source(database, "dailymed", bulk_location=str(folder))

    files = {uri.split("/")[-1]: found for uri, found in result.files.files.items()}
    assert {name: found.outcome for name, found in files.items()} == {
        "README.txt": Outcome.NOT_RELEASE_FILE,
        "cough-syrup-label.xml": Outcome.LANDED,
        release.name: Outcome.LANDED,
        "mplus_topics_2012-07-21.xml": Outcome.NOT_RELEASE_FILE,
    }
    # The six samples and the Rogaine label landed; the cut XML rejected; the readme and
    # the Rogaine zip's JPEG passed by unread.
    assert files[release.name].rows == 7
    assert files[release.name].reason == (
        "7 SPL documents landed, 1 rejected, 2 other members (images, text) not read"
    )
    assert files["cough-syrup-label.xml"].rows == 1

    again = land_source(database, "dailymed", bulk_location=str(folder))

    assert again.total_rows == 0
    assert again.files.count(Outcome.ALREADY_LANDED) == 2


def test_an_upgrade_keeps_the_files_the_older_ledger_landed(database):
    # The state medmirror's own DailyMed ledger kept before BulkLedger: name and size.
    humira = SAMPLES / "spl_humira_20130930.xml"
    write_legacy_state(
        database,
        "dailymed",
        "labels_bulk",
        {"landed_files": [f"{humira.name}|{humira.stat().st_size}"]},
    )

    result = land_source(database, "dailymed", bulk_location=str(SAMPLES))

    assert result.rows["labels"] == 5  # every sample but Humira's
    assert HUMIRA not in {set_id for set_id, _ in landed_labels(database)}
    assert result.files.files[str(humira)].outcome == Outcome.ALREADY_LANDED


# -- the web services ---------------------------------------------------------------------


class DailyMedApi:
    """Replays DailyMed's web services v2 on 127.0.0.1 and records every request.

    `/spls.json` and `/drugclasses.json` answer from queues (a request with nothing queued
    gets a 500); `/spls/{setid}.xml` serves the real SPL file of that set id, and
    `/spls/{setid}/history.json` the constructed history. `faults` holds answers given
    before the real one, per path.
    """

    def __init__(self, httpserver) -> None:
        self.base = httpserver.url_for("/dailymed/services/v2")
        self.lists: list[Response] = []
        self.classes: list[Response] = []
        self.faults: dict[str, list[Response]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.labels = {set_id_of(xml): xml for xml in SAMPLES.glob("*.xml")}
        httpserver.expect_request(re.compile("/dailymed/services/v2/.*")).respond_with_handler(
            self._answer
        )

    def _answer(self, request: Request) -> Response:
        path = request.path.removeprefix("/dailymed/services/v2")
        self.requests.append((path, dict(request.args)))
        if self.faults.get(path):
            return self.faults[path].pop(0)
        if path == "/spls.json":
            return self.lists.pop(0) if self.lists else Response("nothing queued", status=500)
        if path == "/drugclasses.json":
            return self.classes.pop(0) if self.classes else Response("nothing queued", status=500)
        label = re.fullmatch(r"/spls/([0-9a-f-]+)\.xml", path)
        if label and label[1] in self.labels:
            return Response(self.labels[label[1]].read_bytes(), content_type="text/xml")
        history = re.fullmatch(r"/spls/([0-9a-f-]+)/history\.json", path)
        if history:
            return constructed(f"history_{history[1]}_constructed.json")
        return Response("not found", status=404)

    def asked(self, path: str) -> list[dict[str, str]]:
        return [args for asked, args in self.requests if asked == path]


def constructed(name: str) -> Response:
    return Response((DERIVED / name).read_bytes(), content_type="application/json")


@pytest.fixture
def api(httpserver, monkeypatch: pytest.MonkeyPatch) -> DailyMedApi:
    replay = DailyMedApi(httpserver)
    monkeypatch.setenv("SOURCES__DAILYMED__API_URL", replay.base)
    monkeypatch.setenv("SOURCES__DAILYMED__PAGE_SIZE", "3")
    monkeypatch.setenv("SOURCES__DAILYMED__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "5")
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "10")
    return replay


def test_api_pages_by_published_date_and_the_next_run_asks_from_the_cursor(database, api):
    api.lists += [
        constructed("spls_page1_constructed.json"),
        constructed("spls_page2_constructed.json"),
    ]
    api.classes += [
        constructed("drugclasses_page1_constructed.json"),
        constructed("drugclasses_page2_constructed.json"),
    ]

    result = land_source(database, "dailymed", start_date="2010-01-01")

    assert api.asked("/spls.json") == [
        {
            "published_date": "2010-01-01",
            "published_date_comparison": "gte",
            "page": "1",
            "pagesize": "3",
        },
        {
            "published_date": "2010-01-01",
            "published_date_comparison": "gte",
            "page": "2",
            "pagesize": "3",
        },
    ]
    assert api.asked("/drugclasses.json") == [
        {"page": "1", "pagesize": "3"},
        {"page": "2", "pagesize": "3"},
    ]
    assert sorted(path for path, _ in api.requests if path.endswith(".xml")) == sorted(
        f"/spls/{set_id}.xml" for set_id in SAMPLE_SET_IDS
    )
    assert result.windows == 2  # one list page per window
    assert result.rows == {
        "labels": 6,
        "pharmacologic_classes": 1,
        "label_history": 9,  # each label's version and the one before (the three v1 labels: one)
        "drug_classes": 5,
    }
    assert [set_id for set_id, _ in landed_labels(database)] == SAMPLE_SET_IDS
    # DailyMed's count of the list (metadata.total_elements) against the labels landed.
    (counted,) = reconcile(database, result, bulk=False)
    assert (counted.resource, counted.publisher_count, counted.mirror_count) == ("labels", 6, 6)
    assert counted.counted == "SPLs published 2010-01-01 or later"
    published = dict(
        query(database, "select set_id, published_date::text from raw_dailymed.labels")
    )
    assert published[LIPITOR] == "2014-01-16"
    assert query(
        database,
        "select spl_version, published_date::text from raw_dailymed.label_history "
        "where set_id = %s order by 1",
        LIPITOR,
    ) == [(10, "2012-12-12"), (11, "2014-01-16")]
    assert query(
        database, "select class_code, class_type from raw_dailymed.drug_classes order by 1"
    )[0] == ("N0000007909", "CS")

    # The next run asks from the newest published date landed (2014-01-16), less a day;
    # the drug classes are unchanged and land nothing.
    api.requests.clear()
    api.lists.append(constructed("spls_rerun_constructed.json"))
    api.classes += [
        constructed("drugclasses_page1_constructed.json"),
        constructed("drugclasses_page2_constructed.json"),
    ]

    again = land_source(database, "dailymed", start_date="2010-01-01")

    assert api.asked("/spls.json") == [
        {
            "published_date": "2014-01-15",
            "published_date_comparison": "gte",
            "page": "1",
            "pagesize": "3",
        }
    ]
    # The overlap day lists Lipitor's version 11 again: the same version, kept once in raw.
    assert again.rows == {"labels": 0, "label_history": 0}
    assert again.repeated == {"labels": 1, "label_history": 2}
    assert query(database, "select count(*) from raw_dailymed.drug_classes") == [(5,)]


def test_api_retries_429_and_5xx_and_rejects_a_label_it_cannot_parse(database, api):
    api.faults["/spls.json"] = [
        error_response(429, {"Retry-After": "0"}),
        error_response(503),
    ]
    api.faults[f"/spls/{HUMIRA}.xml"] = [error_response(500)]
    api.faults[f"/spls/{OTC}.xml"] = [
        Response((DERIVED / "spl_otc_cough_cut.xml").read_bytes(), content_type="text/xml")
    ]
    api.lists += [
        constructed("spls_page1_constructed.json"),
        constructed("spls_page2_constructed.json"),
    ]
    api.classes += [
        constructed("drugclasses_page1_constructed.json"),
        constructed("drugclasses_page2_constructed.json"),
    ]

    result = land_source(database, "dailymed", start_date="2010-01-01", fetch_history=False)

    assert len(api.asked("/spls.json")) == 4  # 429, 503, then the two pages
    assert len(api.asked(f"/spls/{HUMIRA}.xml")) == 2  # 500, then the label
    assert [set_id for set_id, _ in landed_labels(database)] == sorted(set(SAMPLE_SET_IDS) - {OTC})
    ((uri, problem),) = rejects(database)
    assert uri.endswith(f"/spls/{OTC}.xml")
    assert problem.startswith("not valid XML at line")
    assert result.rejected == 1


def test_constructed_list_pages_match_the_real_xml_page_layout():
    """The constructed JSON pages carry the same metadata fields as the real XML page."""
    real = ElementTree.parse(FIXTURES / "services_v2_spls_page1.xml").getroot()
    fields = {child.tag for child in real.find("metadata")}
    page = json.loads((DERIVED / "spls_page1_constructed.json").read_text())
    assert set(page["metadata"]) == fields
    assert {child.tag for child in real.find("spl")} == set(page["data"][0])
