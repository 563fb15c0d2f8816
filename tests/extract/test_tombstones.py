"""Tombstones: a record gone from a publisher's complete listing lands a deletion notice
(deleted = true, the same natural key) and leaves the current marts; raw keeps its
history. Each test lands a real (or constructed-from-real, see the fixtures'
PROVENANCE.md) publication, then a later one that no longer holds one record, and builds
only the dbt models involved."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from werkzeug import Request, Response

from flows.dbt_runner import run_dbt
from tests.conftest import DERIVED, land_source, query
from tests.extract.test_dailymed import (
    HUMIRA,
    OTC,
    SAMPLES,
    DailyMedApi,
    constructed,
    per_label_zip,
    set_id_of,
)
from tests.extract.test_fooddata import DOWNLOAD

OPENFDA = DERIVED / "openfda" / "derived"
METHOXSALEN_LABEL = "28cdcef9-0623-4c5a-bd18-aa3d2a3d40f8"  # openFDA's constructed copy
WITHDRAWN_NDC = "68682-066"


def deletions(connection, table: str, key: str) -> list[str]:
    """The keys of `table`'s deletion notices."""
    sql = f"select {key}::text from {table} where deleted order by 1"  # noqa: S608
    return [row[0] for row in query(connection, sql)]


# The models between DailyMed's raw labels and `marts.drug_labels`.
DRUG_LABELS = (
    "stg_dailymed__labels",
    "int_dailymed_labels_current",
    "int_dailymed_product_versions",
    "int_drug_label_sections",
    "int_drug_products_unioned",
    "int_drug_labels_linked",
    "int_drug_label_drugs_aggregated",
    "drug_labels",
)


def build(connection, *models: str) -> None:
    result = run_dbt(["build", "--select", *models], connection)
    assert result.success


# -- DailyMed ---------------------------------------------------------------------------------


class WholeListApi(DailyMedApi):
    """DailyMed's replay, the whole list (`/spls.json` without `published_date`) answered
    from its own queue."""

    def __init__(self, httpserver) -> None:
        self.whole: list[Response] = []
        super().__init__(httpserver)

    def _answer(self, request: Request) -> Response:
        if request.path.endswith("/spls.json") and "published_date" not in request.args:
            self.requests.append(("/spls.json (whole)", dict(request.args)))
            return self.whole.pop(0) if self.whole else Response("nothing queued", status=500)
        return super()._answer(request)


@pytest.fixture
def dailymed_api(httpserver, monkeypatch: pytest.MonkeyPatch) -> WholeListApi:
    replay = WholeListApi(httpserver)
    monkeypatch.setenv("SOURCES__DAILYMED__API_URL", replay.base)
    monkeypatch.setenv("SOURCES__DAILYMED__PAGE_SIZE", "3")
    monkeypatch.setenv("SOURCES__DAILYMED__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    return replay


def test_dailymed_whole_list_without_a_label_lands_its_tombstone(
    database, dailymed_api: WholeListApi, monkeypatch: pytest.MonkeyPatch
):
    dailymed_api.lists += [
        constructed("spls_page1_constructed.json"),
        constructed("spls_page2_constructed.json"),
    ]
    dailymed_api.classes += [
        constructed("drugclasses_page1_constructed.json"),
        constructed("drugclasses_page2_constructed.json"),
    ]
    land_source(database, "dailymed", start_date="2010-01-01", fetch_history=False)
    build(database, *DRUG_LABELS)
    before = {row[0] for row in query(database, "select set_id from marts.drug_labels")}
    assert OTC in before

    # A week later: the published-since list names nothing new, and the whole list (read
    # to its last page, one page per window here) no longer names the OTC label.
    monkeypatch.setenv("SOURCES__DAILYMED__FULL_LIST_DAYS", "7")
    dailymed_api.requests.clear()
    dailymed_api.lists.append(constructed("spls_rerun_constructed.json"))
    dailymed_api.classes += [
        constructed("drugclasses_page1_constructed.json"),
        constructed("drugclasses_page2_constructed.json"),
    ]
    dailymed_api.whole += [
        constructed("spls_whole_page1_without_otc_constructed.json"),
        constructed("spls_whole_page2_without_otc_constructed.json"),
    ]

    result = land_source(
        database, "dailymed", start_date="2010-01-01", fetch_history=False, list_pages_per_window=1
    )

    assert [args for path, args in dailymed_api.requests if path == "/spls.json (whole)"] == [
        {"page": "1", "pagesize": "3"},
        {"page": "2", "pagesize": "3"},
    ]
    assert result.windows == 2
    assert deletions(database, "raw_dailymed.labels", "set_id") == [OTC]
    # Raw keeps the label it landed, next to its deletion notice (same set id and version).
    assert query(
        database,
        "select version, deleted, record is null from raw_dailymed.labels "
        "where set_id = %s order by deleted",
        OTC,
    ) == [(1, False, False), (1, True, True)]
    build(database, *DRUG_LABELS)
    current = {row[0] for row in query(database, "select set_id from marts.drug_labels")}
    assert current == before - {OTC}


def test_dailymed_whole_list_cut_short_lands_no_tombstone(
    database, dailymed_api: WholeListApi, monkeypatch: pytest.MonkeyPatch
):
    """A whole list that names fewer labels than its `total_elements` is not complete."""
    land_source(database, "dailymed", bulk_location=str(SAMPLES))
    monkeypatch.setenv("SOURCES__DAILYMED__FULL_LIST_DAYS", "7")
    dailymed_api.lists.append(constructed("spls_rerun_constructed.json"))
    dailymed_api.classes += [
        constructed("drugclasses_page1_constructed.json"),
        constructed("drugclasses_page2_constructed.json"),
    ]
    page1 = json.loads(
        (
            DERIVED / "dailymed" / "derived" / "spls_whole_page1_without_otc_constructed.json"
        ).read_bytes()
    )
    page1["metadata"] |= {"total_elements": 6, "total_pages": 1, "next_page": "null"}
    dailymed_api.whole.append(Response(json.dumps(page1), content_type="application/json"))

    result = land_source(database, "dailymed", start_date="2010-01-01", fetch_history=False)

    assert deletions(database, "raw_dailymed.labels", "set_id") == []
    ((problem,),) = query(database, "select problem from raw_dailymed.rejects")
    assert problem.startswith("the listing named 3 labels of the 6 the publisher stated")
    assert result.rejected == 1


def release_set(folder: Path, *, without: str | tuple[str, ...] = ()) -> Path:
    """`dm_spl_release_human_rx_part1.zip` in `folder`: a release archive of per-label zips
    built from the real labels (as test_dailymed.release_zip builds it), less the label
    (or labels) `without`."""
    left_out = (without,) if isinstance(without, str) else without
    work = folder / "inner"
    work.mkdir(parents=True)
    release = folder / "dm_spl_release_human_rx_part1.zip"
    with zipfile.ZipFile(release, "w", zipfile.ZIP_DEFLATED) as archive:
        for xml in sorted(SAMPLES.glob("*.xml")):
            if set_id_of(xml) not in left_out:
                inner = per_label_zip(work, xml)
                archive.write(inner, f"prescription/{inner.name}")
    shutil.rmtree(work)
    return release


def test_dailymed_declared_full_release_without_a_label_lands_its_tombstone(database, tmp_path):
    first = release_set(tmp_path / "january")
    land_source(database, "dailymed", bulk_location=str(first.parent), bulk_full_release=True)
    assert deletions(database, "raw_dailymed.labels", "set_id") == []

    # Part 1 alone, not declared a full set: it names fewer labels, and lands no tombstone.
    partial = release_set(tmp_path / "part-only", without=HUMIRA)
    land_source(database, "dailymed", bulk_location=str(partial))
    assert deletions(database, "raw_dailymed.labels", "set_id") == []

    # The next month's full set (declared) no longer holds the HUMIRA label.
    later = release_set(tmp_path / "february", without=HUMIRA)
    with zipfile.ZipFile(later, "a") as archive:  # another release: another file
        archive.writestr("README.txt", "February release")
    land_source(database, "dailymed", bulk_location=str(later.parent), bulk_full_release=True)

    assert deletions(database, "raw_dailymed.labels", "set_id") == [HUMIRA]
    build(database, *DRUG_LABELS)
    current = {row[0] for row in query(database, "select set_id from marts.drug_labels")}
    assert HUMIRA not in current and OTC in current


def test_a_declared_full_set_with_a_missing_part_lands_no_tombstone(database, tmp_path):
    first = release_set(tmp_path / "january")
    land_source(database, "dailymed", bulk_location=str(first.parent), bulk_full_release=True)
    later = release_set(tmp_path / "february", without=HUMIRA)
    later.rename(later.with_name("dm_spl_release_human_rx_part2.zip"))  # part 1 is missing

    land_source(database, "dailymed", bulk_location=str(later.parent), bulk_full_release=True)

    assert deletions(database, "raw_dailymed.labels", "set_id") == []
    problems = [row[0] for row in query(database, "select problem from raw_dailymed.rejects")]
    assert any("dm_spl_release_human_rx_part1.zip is missing" in problem for problem in problems)


# -- openFDA ----------------------------------------------------------------------------------


def serve_export(httpserver, folder: Path, export_date: str) -> str:
    """openFDA's download manifest for one export of label and NDC partitions (`folder`)."""
    names = sorted(path.name for path in folder.iterdir())
    for name in names:
        httpserver.expect_request(f"/{export_date}/drug/{name}").respond_with_data(
            (folder / name).read_bytes(), content_type="application/zip"
        )

    def listing(prefix: str) -> dict:
        return {
            "export_date": export_date,
            "partitions": [
                {"file": httpserver.url_for(f"/{export_date}/drug/{name}"), "size_mb": "0"}
                for name in names
                if name.startswith(prefix)
            ],
        }

    path = f"/{export_date}/download.json"
    manifest = {
        "meta": {"last_updated": export_date},
        "results": {"drug": {"label": listing("drug-label"), "ndc": listing("drug-ndc")}},
    }
    httpserver.expect_request(path).respond_with_json(manifest)
    return httpserver.url_for(path)


def test_openfda_whole_export_without_a_record_lands_its_tombstones(database, httpserver, tmp_path):
    first = serve_export(httpserver, OPENFDA / "partitions", "2024-01-01")
    land_source(database, "openfda", bulk_location=first, download_dir=str(tmp_path))
    assert deletions(database, "raw_openfda.labels", "set_id") == []

    # A folder of the later partitions is not known to be a whole export: no tombstone.
    land_source(database, "openfda", bulk_location=str(OPENFDA / "partitions_later"))
    assert deletions(database, "raw_openfda.labels", "set_id") == []

    later = serve_export(httpserver, OPENFDA / "partitions_later", "2024-02-01")
    land_source(database, "openfda", bulk_location=later, download_dir=str(tmp_path))

    assert deletions(database, "raw_openfda.labels", "set_id") == [METHOXSALEN_LABEL]
    assert deletions(database, "raw_openfda.ndc", "product_ndc") == [WITHDRAWN_NDC]
    build(
        database,
        "stg_openfda__labels",
        "stg_openfda__ndc_products",
        "int_openfda_labels_current",
        "int_openfda_ndc_current",
        "int_drug_products_unioned",
    )
    assert query(
        database,
        "select set_id, is_deleted from intermediate.int_openfda_labels_current order by 1",
    ) == [(METHOXSALEN_LABEL, True), ("e71151ba-f2f4-4e95-9256-3db361d40a54", False)]
    # The products the NDC marts (`ndc_products`, `drug_formulations`) are built from.
    sql = (
        "select ndc_product_code from intermediate.int_drug_products_unioned "
        "where source = 'openfda'"
    )
    products = {row[0] for row in query(database, sql)}
    assert WITHDRAWN_NDC not in products and "68682-065" in products


# -- FoodData Central -----------------------------------------------------------------------


def test_fooddata_newer_full_download_without_a_food_lands_its_tombstone(database, tmp_path):
    land_source(database, "fooddata", bulk_location=str(DOWNLOAD))
    later_file = DERIVED / "fooddata" / "derived" / "branded_food_json_later_without_first.json"
    first_food = json.loads(
        (DERIVED / "fooddata" / "foods_search_cheddar_page1.json").read_bytes()
    )["foods"][0]["fdcId"]
    # A saved API answer (a search page) is not a full download: no tombstone.
    land_source(
        database,
        "fooddata",
        bulk_location=str(DERIVED / "fooddata" / "derived" / "search_page2_of2.json"),
    )
    assert deletions(database, "raw_fooddata.foods", "fdc_id") == []

    folder = tmp_path / "later"
    folder.mkdir()
    shutil.copy(later_file, folder / "FoodData_Central_branded_food_json_later.json")
    land_source(database, "fooddata", bulk_location=str(folder))

    # Only the branded food gone is deleted: the Foundation and SR Legacy foods, which
    # this download does not hold, stay.
    assert deletions(database, "raw_fooddata.foods", "fdc_id") == [str(first_food)]
    build(database, "stg_fooddata__foods", "int_foods_deduplicated", "food_items")
    items = {row[0] for row in query(database, "select fdc_id from marts.food_items")}
    assert first_food not in items and len(items) == 11
