"""The MCP tools through a real `medmirror mcp` process over stdio, driven by the MCP
Python client: every tool answers what SQL on the marts answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from flows.sources import SOURCES
from medmirror.settings import PROJECT_DIR
from tests.conftest import free_port
from tests.serving.conftest import analyst_rows

TOOLS = {
    "search",
    "drug_profile",
    "trials_for",
    "articles_for",
    "adverse_event_signals",
    "code_lookup",
    "freshness",
}


@pytest.fixture(scope="module")
def answers(demo_warehouse) -> dict:
    """Every call of this module, made in one session with one server process."""
    calls = {
        "search": ("search", {"mart": "drugs", "query": "lipitor", "limit": 5}),
        "search_trials": ("search", {"mart": "clinical_trials", "query": "growth hormone"}),
        "profile": ("drug_profile", {"drug": "Lipitor"}),
        "profile_by_id": ("drug_profile", {"drug": "afecb147a9625949", "limit": 2}),
        "trials_condition": ("trials_for", {"condition": "phelan", "limit": 5}),
        "trials_drug": ("trials_for", {"drug": "adalimumab"}),
        "articles": ("articles_for", {"drug": "atorvastatin"}),
        "signals": ("adverse_event_signals", {"drug": "risperidone", "limit": 10}),
        "icd_code": ("code_lookup", {"system": "icd10cm", "code": "A15.0"}),
        "hcpcs_text": ("code_lookup", {"system": "hcpcs", "text": "wheelchair", "limit": 5}),
        "freshness": ("freshness", {}),
        "unknown_drug": ("drug_profile", {"drug": "no such drug at all"}),
        "unknown_mart": ("search", {"mart": "colours", "query": "red"}),
        "both_or_neither": ("code_lookup", {"system": "hcpcs"}),
    }

    async def session() -> dict:
        server = StdioServerParameters(
            command=sys.executable,
            args=["-m", "flows.cli", "mcp"],
            env=dict(os.environ),
            cwd=str(PROJECT_DIR),
        )
        found: dict = {}
        async with Client(server) as client:
            found["tools"] = (await client.list_tools()).tools
            for name, (tool, arguments) in calls.items():
                found[name] = await client.call_tool(tool, arguments)
        return found

    return anyio.run(session)


def test_the_tools_are_listed_with_their_inputs_described(answers):
    tools = {tool.name: tool for tool in answers["tools"]}

    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 60, tool.name
        for name, schema in tool.input_schema.get("properties", {}).items():
            assert schema.get("description"), f"{tool.name}.{name}"
    assert "marts.drug_reaction_signals" in tools["adverse_event_signals"].description
    assert tools["code_lookup"].input_schema["properties"]["system"]["enum"] == [
        "icd10cm",
        "hcpcs",
    ]


def content(result) -> dict:
    assert not result.is_error, result.content
    return result.structured_content


def test_search_answers_the_marts_search_function(answers, demo_warehouse):
    assert content(answers["search"])["rows"] == analyst_rows(
        demo_warehouse, "select * from search_drugs('lipitor', 5)"
    )
    trials = content(answers["search_trials"])
    assert trials["rows"] == analyst_rows(
        demo_warehouse, "select * from search_clinical_trials('growth hormone', 10)"
    )
    # (PubMed: the citations naming a study count in its article_count)
    assert [item["source"] for item in trials["licences"]] == ["clinicaltrials", "pubmed"]


def test_drug_profile_is_the_profile_and_its_linked_rows(answers, demo_warehouse):
    found = content(answers["profile"])
    (drug,) = analyst_rows(
        demo_warehouse, "select drug_id from drugs where 'Lipitor' = any(brand_names)"
    )

    assert (found["drug_id"], found["matched_by"]) == (drug["drug_id"], "brand_name")
    assert [found["profile"]] == analyst_rows(
        demo_warehouse, "select * from drug_profile where drug_id = %s", drug["drug_id"]
    )
    formulations = analyst_rows(
        demo_warehouse,
        "select * from drug_formulations where drug_id = %s order by formulation_id",
        drug["drug_id"],
    )
    assert found["formulations"] == {"count": len(formulations), "rows": formulations}
    assert found["formulations"]["count"] == 5
    assert {"dailymed", "openfda", "orangebook"} <= {item["source"] for item in found["licences"]}

    by_id = content(answers["profile_by_id"])
    assert (by_id["profile"]["generic_name"], by_id["matched_by"]) == ("adalimumab", "drug_id")
    assert by_id["formulations"]["count"] == 4
    assert len(by_id["formulations"]["rows"]) == 2


def test_trials_articles_and_signals_equal_sql(answers, demo_warehouse):
    trials = content(answers["trials_condition"])
    expected = analyst_rows(
        demo_warehouse,
        "select nct_id, brief_title from clinical_trials where nct_id in ("
        "select nct_id from trial_conditions where condition_name ilike '%phelan%') "
        "order by last_update_post_date desc nulls last, nct_id",
    )
    assert trials["count"] == len(expected) > 0
    assert [(row["nct_id"], row["brief_title"]) for row in trials["rows"]] == [
        (row["nct_id"], row["brief_title"]) for row in expected[:5]
    ]
    assert "search_vector" not in trials["rows"][0]

    by_drug = content(answers["trials_drug"])
    assert by_drug["drug"]["drug_id"] == "afecb147a9625949"
    assert by_drug["rows"] == analyst_rows(
        demo_warehouse,
        "select * from drug_trials where drug_id = 'afecb147a9625949' "
        "order by last_update_post_date desc nulls last, trial_intervention_id",
    )
    articles = content(answers["articles"])
    linked = "select * from drug_articles where drug_id = %s order by article_chemical_id"
    assert articles["drug"]["drug_id"] == "190aba93dbe94c02"
    assert articles["count"] == len(analyst_rows(demo_warehouse, linked, "190aba93dbe94c02"))

    signals = content(answers["signals"])
    expected = analyst_rows(
        demo_warehouse,
        "select * from drug_reaction_signals where lower(ingredient_name) = 'risperidone' "
        "order by is_signal desc, prr desc nulls last, drug_reaction_signal_id",
    )
    assert signals["rows"] == expected
    assert [row["preferred_term"] for row in signals["rows"]] == [
        "GYNAECOMASTIA",
        "ABNORMAL WEIGHT GAIN",
    ]
    assert "faers" in {item["source"] for item in signals["licences"]}


def test_code_lookup_by_code_and_by_text(answers, demo_warehouse):
    icd = content(answers["icd_code"])
    columns = ", ".join(
        row["column_name"]
        for row in analyst_rows(
            demo_warehouse,
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'icd10cm_codes' and data_type <> 'tsvector' "
            "order by ordinal_position",
        )
    )
    assert icd["rows"] == analyst_rows(
        demo_warehouse,
        f"select {columns} from icd10cm_codes where code = 'A150'",  # noqa: S608
    )
    hcpcs = content(answers["hcpcs_text"])
    assert hcpcs["rows"] == analyst_rows(
        demo_warehouse, "select * from search_hcpcs_codes('wheelchair', 5)"
    )
    assert [item["source"] for item in hcpcs["licences"]] == ["hcpcs"]


def test_freshness_names_every_source(answers):
    found = content(answers["freshness"])
    verdicts = {row["source"]: row["verdict"] for row in found["sources"]}

    assert set(verdicts) == set(SOURCES)
    assert verdicts["clinicaltrials"] == "fresh"
    assert verdicts["census"] == "never loaded"


def test_refusals_are_tool_errors(answers):
    for name, words in [
        ("unknown_drug", "no drug matches"),
        ("unknown_mart", "no mart named 'colours'"),
        ("both_or_neither", "give a code or a text"),
    ]:
        result = answers[name]
        assert result.is_error, name
        assert words in result.content[0].text, name


def test_streamable_http_serves_the_same_tools(demo_warehouse):
    refused = subprocess.run(
        [sys.executable, "-m", "flows.cli", "mcp", "--http", "--host", "0.0.0.0"],  # noqa: S104
        env={key: value for key, value in os.environ.items() if key != "MEDMIRROR_API_TOKEN"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1
    assert "refusing to serve on 0.0.0.0" in refused.stderr

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "mcp", "--http", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, "the MCP server ended"
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "the MCP server never listened"
            time.sleep(0.5)

        async def session():
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                tools = (await client.list_tools()).tools
                codes = await client.call_tool("code_lookup", {"system": "hcpcs", "code": "E0100"})
                return tools, codes

        tools, codes = anyio.run(session)
    finally:
        server.terminate()
        server.wait(30)

    assert {tool.name for tool in tools} == TOOLS
    assert content(codes)["rows"][0]["hcpcs_code"] == "E0100"
