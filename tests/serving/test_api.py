"""The read-only HTTP API on the demo warehouse: every route through FastAPI's test
client, paging to the end, the errors, the analyst's limits, the bearer token, and one
real uvicorn process."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import psycopg2
import psycopg2.errors
import pytest
from fastapi.testclient import TestClient

from serving.api import ApiSettings, BindRefused, check_bind, create_app
from serving.catalog import marts
from serving.licences import LICENCES
from serving.queries import MartReader
from tests.conftest import free_port
from tests.serving.conftest import analyst_rows

CAP = 500


@pytest.fixture(scope="module")
def client(demo_warehouse):
    app = create_app(ApiSettings(max_page_size=CAP), demo_warehouse)
    with TestClient(app) as test_client:
        yield test_client


def licence_sources(answer: dict) -> list[str]:
    return [item["source"] for item in answer["licences"]]


def in_table_order(sources) -> list[str]:
    return [name for name in LICENCES if name in sources]


def test_metrics_are_the_prometheus_exposition_of_the_warehouse(client):
    """Read as the transformer (the analyst may not read `ops` or raw): every source's
    freshness and rejects, and no scrape error."""
    from prometheus_client.parser import text_string_to_metric_families

    from flows.sources import SOURCES

    answer = client.get("/metrics")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = {
        (sample.name, sample.labels.get("source")): sample
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }
    assert found[("medmirror_scrape_error", None)].value == 0
    assert {source for name, source in found if name == "medmirror_source_fresh"} == set(SOURCES)
    fresh = found[("medmirror_source_fresh", "clinicaltrials")]
    assert (fresh.labels["verdict"], fresh.value) == ("fresh", 1)
    assert found[("medmirror_raw_rejects", "clinicaltrials")].value == 0


def test_status_lists_each_source_with_its_freshness_and_licence(client):
    answer = client.get("/status").json()

    by_source = {row["source"]: row for row in answer["sources"]}
    assert set(by_source) == set(LICENCES)
    assert by_source["clinicaltrials"]["verdict"] == "fresh"
    assert by_source["clinicaltrials"]["newest_record"] == "2022-11-21"
    assert by_source["census"]["verdict"] == "never loaded"
    assert by_source["pubmed"]["licence"]["publisher"] == "NLM, PubMed/MEDLINE"


def test_marts_lists_every_mart_with_columns_and_descriptions(client):
    answer = client.get("/marts").json()

    listed = {mart["name"]: mart for mart in answer["marts"]}
    assert set(listed) == set(marts())
    drugs = listed["drugs"]
    assert drugs["is_built"] and drugs["is_searchable"] and drugs["primary_key"] == ["drug_id"]
    assert drugs["description"].startswith("One row per drug")
    assert all(column["description"] for column in drugs["columns"])
    assert not listed["county_health"]["is_built"]
    assert listed["ndc_products"]["domain"] == "analysis"


def test_rows_filters_key_search_drug_codes_and_analyses(client, demo_warehouse):
    page = client.get("/marts/drug_formulations", params={"brand_name": "Lipitor"}).json()
    assert [row["ndc_product_code"] for row in page["rows"]] == [
        row["ndc_product_code"]
        for row in analyst_rows(
            demo_warehouse,
            "select ndc_product_code from drug_formulations where brand_name = 'Lipitor' "
            "order by formulation_id",
        )
    ]
    assert page["next_cursor"] is None
    assert licence_sources(page) == in_table_order(marts()["drug_formulations"].sources)
    assert "search_vector" not in client.get("/marts/drugs").json()["rows"][0]

    # operators, and any of several values
    oral = client.get("/marts/drug_formulations", params={"routes__contains": "ORAL"}).json()
    assert oral["count"] == 9
    recent = client.get(
        "/marts/orange_book_products",
        params={
            "approval_date__gte": "2024-01-01",
            "marketing_status": ["RX", "OTC"],
            "limit": CAP,
        },
    ).json()
    (expected,) = analyst_rows(
        demo_warehouse,
        "select count(*) as n from orange_book_products "
        "where approval_date >= '2024-01-01' and marketing_status in ('RX', 'OTC')",
    )
    assert recent["count"] == expected["n"] > 0

    one = client.get("/marts/drugs/190aba93dbe94c02").json()
    assert one["row"]["generic_name"] == "atorvastatin"
    (listing,) = analyst_rows(
        demo_warehouse,
        "select appl_type, appl_no, product_no, patent_no, patent_use_code "
        "from orange_book_patents where product_id = 'N021223-002' "
        "and patent_use_code is not null order by patent_use_code limit 1",
    )
    patent = client.get("/marts/orange_book_patents/" + ",".join(listing.values())).json()
    assert patent["row"]["product_id"] == "N021223-002"
    assert patent["row"]["patent_use_code"] == listing["patent_use_code"]

    hits = client.get("/search/clinical_trials", params={"q": "growth hormone"}).json()
    assert hits["rows"][0]["nct_id"] == "NCT05105685"
    assert licence_sources(hits) == ["clinicaltrials"]

    drug = client.get("/drugs/190aba93dbe94c02").json()
    assert drug["profile"]["generic_name"] == "atorvastatin"
    assert drug["formulations"]["count"] == 5
    assert {"trials", "articles", "signals"} <= set(drug)
    assert "pubmed" in licence_sources(drug) and "dailymed" in licence_sources(drug)

    icd = client.get("/codes/icd10cm/A15.0").json()
    assert (icd["row"]["code"], icd["row"]["long_description"]) == ("A150", "Tuberculosis of lung")
    assert licence_sources(icd) == ["icd10cm"]
    assert client.get("/codes/hcpcs/e0100").json()["row"]["hcpcs_code"] == "E0100"

    ndc = client.get("/analyses/ndc").json()
    assert ndc["formats"] == [
        {"ndc_format": "4-4-2", "products": 9},
        {"ndc_format": "5-3-2", "products": 4},
    ]
    names = client.get("/analyses/names").json()
    assert {"brands_per_ingredient", "shared_brand_names", "common_suffixes"} <= set(names)
    assert client.get("/analyses/drug-classes").json()["classes_per_drug"] == [
        {"class_count": 0, "drugs": 5},
        {"class_count": 5, "drugs": 1},
    ]
    assert client.get("/docs").status_code == 200
    assert "/marts/{mart}" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    ("mart", "limit", "filters"),
    [
        # a composite key whose last column is often null (patents without a use code)
        ("orange_book_patents", 500, {}),
        ("icd10cm_codes", 499, {"is_billable": "false"}),
        ("drug_formulations", 2, {}),
    ],
)
def test_paging_to_the_end_repeats_and_skips_nothing(client, demo_warehouse, mart, limit, filters):
    keys = ", ".join(marts()[mart].primary_key)
    where = " and ".join(f"{column} = %s" for column in filters) or "true"
    expected = [
        tuple(row.values())
        for row in analyst_rows(
            demo_warehouse,
            f"select {keys} from {mart} where {where} order by {keys}",  # noqa: S608
            *filters.values(),
        )
    ]
    seen, pages = [], 0
    url, params = f"/marts/{mart}", {**filters, "limit": limit}
    while url:
        answer = client.get(url, params=params).json()
        seen += [tuple(row[c] for c in marts()[mart].primary_key) for row in answer["rows"]]
        pages += 1
        url, params = answer["next"], None

    assert len(seen) == len(set(seen))
    assert seen == expected
    assert pages == -(-len(expected) // limit)


def test_errors_say_what_is_wrong(client):
    for path, status, words in [
        ("/marts/nope", 404, "no mart named 'nope'"),
        ("/marts/county_health", 404, "not built yet"),
        ("/marts/drugs?colour=red", 400, "no column 'colour'"),
        ("/marts/drugs?generic_name__near=x", 400, "unknown filter"),
        ("/marts/drugs?last_label_date=someday", 400, "does not fit its column"),
        ("/marts/drugs?after=not-a-cursor", 400, "cursor"),
        (f"/marts/drugs?limit={CAP + 1}", 400, f"at most {CAP}"),
        ("/marts/drugs?limit=0", 422, ""),
        ("/marts/drugs/no-such-drug", 404, "no row of drugs with drug_id = 'no-such-drug'"),
        ("/marts/orange_book_patents/N,1", 400, "give 5 values"),
        ("/search/drug_labels?q=x", 404, "has no search function"),
        ("/search/drugs", 422, ""),
        ("/drugs/no-such-drug", 404, "no drug with drug_id"),
        ("/codes/icd10cm/ZZZ99", 404, "no icd10cm code"),
        ("/analyses/colours", 404, "no analysis"),
    ]:
        answer = client.get(path)
        assert answer.status_code == status, path
        assert words in str(answer.json()["detail"]), path


def test_a_query_past_the_statement_timeout_is_stopped(demo_warehouse):
    app = create_app(ApiSettings(statement_timeout_ms=1), demo_warehouse)
    with TestClient(app) as slow:
        answer = slow.get("/marts/icd10cm_codes", params={"long_description__contains": "x"})

    assert answer.status_code == 503
    assert "statement_timeout" in answer.json()["detail"]


def test_no_write_reaches_the_database(client, demo_warehouse):
    count = "select count(*) as n from drugs"
    before = analyst_rows(demo_warehouse, count)

    # no route writes
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)("/marts/drugs").status_code == 405
    # SQL in values stays a value
    injected = "x'); insert into marts.drugs (drug_id) values ('sneaky'); --"
    assert client.get("/marts/drugs", params={"generic_name": injected}).json()["rows"] == []
    assert client.get("/search/drugs", params={"q": injected}).status_code == 200
    assert client.get(f"/marts/drugs/{injected}").status_code == 404
    # the API's own sessions are read-only, whoever they connect as ...
    reader = MartReader(demo_warehouse)
    try:
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
            reader.fetch("insert into marts.drugs (drug_id) values ('sneaky') returning drug_id")
    finally:
        reader.close()
    # ... and the analyst role may not write even outside them
    conn = demo_warehouse.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("insert into marts.drugs (drug_id) values ('sneaky')")
    finally:
        conn.close()

    assert demo_warehouse.user == "medmirror_analyst"
    assert analyst_rows(demo_warehouse, count) == before


def test_a_token_is_needed_for_every_request_once_set(demo_warehouse):
    app = create_app(ApiSettings(token="s3cret"), demo_warehouse)
    with TestClient(app) as guarded:
        for path in ("/status", "/marts/drugs", "/docs"):
            refused = guarded.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"] == "Bearer"
        assert guarded.get("/marts", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert guarded.get("/marts", headers={"Authorization": "Bearer s3cret"}).status_code == 200

    with pytest.raises(BindRefused, match="MEDMIRROR_API_TOKEN"):
        check_bind("0.0.0.0", None)  # noqa: S104 - what is refused
    check_bind("0.0.0.0", "s3cret")  # noqa: S104
    check_bind("127.0.0.1", None)
    check_bind("::1", None)


def test_the_api_serves_from_a_real_uvicorn_process(demo_warehouse):
    refused = subprocess.run(
        [sys.executable, "-m", "flows.cli", "api", "--host", "0.0.0.0"],  # noqa: S104
        env={key: value for key, value in os.environ.items() if key != "MEDMIRROR_API_TOKEN"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1
    assert "refusing to serve on 0.0.0.0" in refused.stderr

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "api", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, "the API process ended"
            try:
                if httpx.get(f"{base}/status", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the API never answered"
            time.sleep(0.5)
        page = httpx.get(f"{base}/marts/drugs", params={"limit": 4}).json()
        assert page["count"] == 4 and page["next_cursor"]
        rest = httpx.get(page["next"]).json()
        assert [row["drug_id"] for row in page["rows"] + rest["rows"]] == sorted(
            row["drug_id"] for row in analyst_rows(demo_warehouse, "select drug_id from drugs")
        )
        assert httpx.get(f"{base}/docs").status_code == 200
    finally:
        server.terminate()
        server.wait(30)
