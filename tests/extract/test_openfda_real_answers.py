"""openFDA on its real answers (tests/fixtures/openfda/, copied from the shared fixture
collection): the first records of a real drug/label bulk partition landed through the real
dlt pipeline into a real PostgreSQL, the real `search_after` paging of a drugs@FDA query
(its recorded `Link` header) followed by the extract's paging helpers, and openFDA's real
error bodies told apart."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import requests
from werkzeug import Response

from extract.openfda.helpers import is_not_found, next_page_url, page_results
from tests.conftest import DERIVED, land_source, query

REAL = DERIVED / "openfda"
PARTITION_EXCERPT = REAL / "drug_label_bulk_partition_2019-10-26_first5.json"
DRUGSFDA_PAGE1 = REAL / "drugsfda_semaglutide_limit2_page1_link_next.json"
DRUGSFDA_PAGE2 = REAL / "drugsfda_semaglutide_limit2_page2_search_after.json"
# The Link header openFDA sent with page 1 (recorded beside the body, see PROVENANCE.md).
PAGE1_LINK = (
    "<https://api.fda.gov/drug/drugsfda.json?search=openfda.generic_name%3A%22semaglutide%22"
    '&limit=2&skip=0&search_after=0%3DYEwDMJgBCsORzztAE_Kv>; rel="next"'
)


def test_the_first_records_of_a_real_label_partition_land(database, tmp_path: Path):
    # The excerpt is the partition's document (meta and the first 5 results, pretty
    # printed by the repository that kept it), zipped here the way openFDA ships a
    # partition: `drug-label-0001-of-0001.json.zip` holding `drug-label-0001-of-0001.json`.
    partition = tmp_path / "partitions" / "drug-label-0001-of-0001.json.zip"
    partition.parent.mkdir()
    with zipfile.ZipFile(partition, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(PARTITION_EXCERPT, "drug-label-0001-of-0001.json")
    published = json.loads(PARTITION_EXCERPT.read_bytes())["results"]

    result = land_source(database, "openfda", bulk_location=str(partition.parent))

    assert result.rows == {"labels": 5}
    assert result.rejected == 0
    assert query(
        database, "select set_id, version from raw_openfda.labels order by set_id"
    ) == sorted((label["set_id"], label["version"]) for label in published)
    ((record,),) = query(
        database,
        "select record from raw_openfda.labels where set_id = %s",
        published[0]["set_id"],
    )
    assert record == published[0]  # the label as openFDA published it


def test_real_search_after_pages_are_followed_by_their_link_header(httpserver):
    httpserver.expect_request("/drug/drugsfda.json").respond_with_response(
        Response(
            DRUGSFDA_PAGE1.read_bytes(),
            headers={"Link": PAGE1_LINK},
            content_type="application/json",
        )
    )

    first = requests.get(httpserver.url_for("/drug/drugsfda.json"), timeout=10)

    assert len(page_results(first.content, where="page 1")) == 2
    assert next_page_url(first, drop=("api_key",)) == (
        "https://api.fda.gov/drug/drugsfda.json?search=openfda.generic_name%3A%22semaglutide"
        "%22&limit=2&skip=0&search_after=0%3DYEwDMJgBCsORzztAE_Kv"
    )
    meta = json.loads(DRUGSFDA_PAGE1.read_bytes())["meta"]["results"]
    assert (meta["skip"], meta["limit"], meta["total"]) == (0, 2, 3)
    # The last page: one more result and no Link header.
    assert len(page_results(DRUGSFDA_PAGE2.read_bytes(), where="page 2")) == 1


def test_only_the_real_not_found_body_means_an_empty_search():
    def answer(name: str, status: int) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response._content = (REAL / name).read_bytes()
        return response

    assert is_not_found(answer("error_404_not_found.json", 404))
    assert not is_not_found(answer("error_400_bad_request_sort.json", 400))
    assert not is_not_found(answer("error_500_server_error_lexical.json", 500))
    # A 404 whose body is not openFDA's NOT_FOUND (a wrong path) is not an empty search.
    assert not is_not_found(answer("error_400_bad_request_sort.json", 404))
