"""The licence table serving answers with is the README's, and every mart's sources have
one (read from dbt's lineage)."""

from __future__ import annotations

import re

from flows.sources import SOURCES
from medmirror.settings import PROJECT_DIR
from serving.catalog import marts
from serving.licences import LICENCES, licences_for


def readme_licence_table() -> dict[str, tuple[str, str]]:
    text = (PROJECT_DIR / "README.md").read_text()
    section = text.split("## Sources and licences", 1)[1].split("\n\n", 2)[1]
    rows = {}
    for line in section.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows[cells[0].strip("`")] = (cells[1], cells[2])
    return rows


def test_the_licence_table_is_the_readmes():
    table = readme_licence_table()

    assert set(table) == set(SOURCES)
    assert {name: (item.publisher, item.licence) for name, item in LICENCES.items()} == table
    assert all(item.attribution for item in LICENCES.values())
    # DrugCentral's share-alike licence is named in its credit line.
    assert "CC BY-SA 4.0" in LICENCES["drugcentral"].attribution


def test_every_mart_has_a_key_and_licensed_sources_from_dbt_lineage():
    found = marts()

    assert {"drugs", "clinical_trials", "ndc_products", "drug_names"} <= set(found)
    assert all(mart.primary_key for mart in found.values())
    for mart in found.values():
        assert mart.sources, mart.name
        assert [item["source"] for item in licences_for(mart.sources)] == [
            name for name in LICENCES if name in mart.sources
        ]
    # PubMed citations naming a study count in its article_count (trial_articles).
    assert found["clinical_trials"].sources == ("clinicaltrials", "pubmed")
    assert found["county_health"].sources == ("cdcplaces", "census")
    assert {"dailymed", "openfda", "orangebook"} <= set(found["drugs"].sources)
    assert re.match(r"One row per", found["ndc_labelers"].description)
