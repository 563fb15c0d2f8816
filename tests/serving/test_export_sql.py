"""`medmirror export` and `medmirror sql` on the demo warehouse: the snapshot holds every
built mart, whole and checksummed, and DuckDB over it answers analyst queries exactly as
PostgreSQL does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from serving.catalog import marts
from serving.duckdb_sql import open_snapshot, run, verify
from serving.export import ExportError, export_snapshot, read_manifest
from tests.serving.conftest import analyst_rows

# Small enough that the demo's two big marts are split: icd10cm_codes (95,358 rows, no
# natural partition) into parts, orange_book_products (44,949) by approval year.
SPLIT_ROWS = 20_000


def medmirror(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        env=dict(os.environ, COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def snapshot(demo_warehouse, tmp_path_factory) -> Path:
    """One export through the command line, as a user runs it."""
    folder = tmp_path_factory.mktemp("exports") / "snapshot"
    done = medmirror("export", str(folder), "--split-rows", str(SPLIT_ROWS))
    assert done.returncode == 0, done.stderr
    assert "icd10cm_codes: 95,358 rows, 5 files" in done.stdout
    return folder


def test_the_snapshot_holds_every_built_mart_whole(demo_warehouse, snapshot):
    manifest = read_manifest(snapshot)
    built = {
        row["name"]
        for row in analyst_rows(
            demo_warehouse,
            "select tablename as name from pg_tables where schemaname = 'marts'"
            " union select viewname from pg_views where schemaname = 'marts'",  # source_freshness
        )
    }

    assert manifest["format"] == "medmirror-snapshot/1"
    assert datetime.fromisoformat(manifest["exported_at"]).tzinfo is not None
    assert set(manifest["marts"]) == built
    for name, mart in manifest["marts"].items():
        (count,) = analyst_rows(demo_warehouse, f"select count(*) as n from {name}")  # noqa: S608
        assert mart["rows"] == count["n"] == sum(item["rows"] for item in mart["files"]), name
        for item in mart["files"]:
            assert pq.read_metadata(snapshot / item["path"]).num_rows == item["rows"]
        documented = marts()[name]
        assert mart["primary_key"] == list(documented.primary_key)
        assert {c["name"]: c["description"] for c in mart["columns"]} == {
            c["name"]: documented.described.get(c["name"], "") for c in mart["columns"]
        }
        assert [item["source"] for item in mart["sources"]] == [
            source for source in mart_sources_in_table_order(documented.sources)
        ]
    assert verify(snapshot) == []

    files = manifest["marts"]["icd10cm_codes"]["files"]
    assert [item["path"] for item in files] == [
        f"icd10cm_codes/part-{index:05d}.parquet" for index in range(5)
    ]
    assert [item["rows"] for item in files] == [20_000] * 4 + [15_358]
    products = manifest["marts"]["orange_book_products"]
    assert products["partitioned_by"] == "approval_year"
    assert {"orange_book_products/approval_year=2014.parquet"} <= {
        item["path"] for item in products["files"]
    }
    assert "orange_book_products/approval_year=null.parquet" in {
        item["path"] for item in products["files"]
    }
    assert manifest["marts"]["drugs"]["files"][0]["path"] == "drugs.parquet"
    assert manifest["marts"]["drugs"]["omitted_columns"] == ["search_vector"]
    # (PubMed second: the citations naming a study count in its article_count)
    trials, _ = manifest["marts"]["clinical_trials"]["sources"]
    assert trials["publisher"] == "NLM, ClinicalTrials.gov"
    assert trials["verdict"] == "fresh" and trials["last_loaded_at"]
    metadata = pq.ParquetFile(snapshot / "drugs.parquet").metadata
    assert metadata.row_group(0).column(0).compression == "ZSTD"


def mart_sources_in_table_order(sources):
    from serving.licences import LICENCES

    return [name for name in LICENCES if name in sources]


def test_a_changed_file_fails_verification(snapshot, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in snapshot.rglob("*"):
        if path.is_file():
            target = copy / path.relative_to(snapshot)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (copy / "drugs.parquet").write_bytes((copy / "drugs.parquet").read_bytes()[:-10])

    assert verify(copy) == ["drugs.parquet: checksum differs from the manifest"]


# Analyst queries written once, run on PostgreSQL (search_path marts) and DuckDB.
ANALYST_QUERIES = [
    # aggregates with filters
    "select marketing_status, count(*) as products, min(approval_date) as first_approval, "
    "max(approval_date) as last_approval from orange_book_products group by 1 order by 1",
    "select approval_year, count(*) as products from orange_book_products "
    "where trade_name like 'A%' and is_reference_listed_drug group by 1 order by 1 nulls last",
    "select chapter, count(*) as codes, sum(case when is_billable then 1 else 0 end) as billable "
    "from icd10cm_codes group by 1 order by 1",
    "select count(*) as codes from hcpcs_codes where long_description ilike '%wheelchair%'",
    # joins
    "select drugs.generic_name, count(formulations.formulation_id) as formulations, "
    "min(formulations.ndc_product_code) as first_ndc from drugs "
    "left join drug_formulations as formulations on formulations.drug_id = drugs.drug_id "
    "group by 1 order by 1",
    "select reports.sex, count(distinct reports.caseid) as cases, count(*) as reactions "
    "from adverse_event_reports as reports join adverse_event_reactions as reactions "
    "on reactions.caseid = reports.caseid group by 1 order by 1 nulls first",
    "select trials.nct_id, trials.overall_status, count(conditions.trial_condition_id) as n "
    "from clinical_trials as trials join trial_conditions as conditions "
    "on conditions.nct_id = trials.nct_id group by 1, 2 order by 3 desc, 1",
    "select articles.publication_year, count(distinct articles.pmid) as articles, "
    "count(authors.article_author_id) as authors from pubmed_articles as articles "
    "left join article_authors as authors on authors.pmid = articles.pmid "
    "group by 1 order by 1 nulls last",
    # numbers, arrays and dates
    "select ingredient_name, preferred_term, prr, ror, chi_square_yates, is_signal "
    "from drug_reaction_signals order by 1, 2",
    "select avg(age_years) as mean_age, max(weight_kg) as heaviest from adverse_event_reports",
    "select nct_id, array_length(conditions, 1) as conditions, start_date, loaded_at "
    "from clinical_trials order by nct_id",
    "select ndc_format, product_type, count(*) as products, sum(package_count) as packages "
    "from ndc_products group by 1, 2 order by 1, 2",
    "select class_type, count(*) as classes from pharmacologic_classes group by 1 order by 1",
    "select name_type, count(*) as names, max(name_length) as longest "
    "from drug_names group by 1 order by 1",
]


def normalised(value):
    """Equal values of the two engines compare equal (numbers as rounded floats, dates as
    ISO text, timestamps in UTC)."""
    if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
        return round(float(value), 6)
    if isinstance(value, datetime):
        return value.astimezone().isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value[:4].isdigit() and "T" in value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        return parsed.astimezone().isoformat() if parsed.tzinfo else value
    if isinstance(value, list | tuple):
        return [normalised(item) for item in value]
    return value


@pytest.mark.parametrize("query", ANALYST_QUERIES)
def test_duckdb_over_the_snapshot_answers_as_postgresql(demo_warehouse, snapshot, query):
    expected = [
        [normalised(value) for value in row.values()] for row in analyst_rows(demo_warehouse, query)
    ]
    result = run(open_snapshot(snapshot), query)
    found = [[normalised(value) for value in row] for row in result.rows]

    assert expected, "the query must find rows to compare"
    assert found == expected


def test_sql_command_prints_a_table(snapshot):
    done = medmirror("sql", str(snapshot), "-c", "select count(*) as drugs from drugs")

    assert done.returncode == 0, done.stderr
    assert "drugs" in done.stdout and "│ 6 " in done.stdout

    failed = medmirror("sql", str(snapshot), "-c", "insert into drugs (drug_id) values ('x')")
    assert failed.returncode == 1
    assert "drugs" in failed.stderr


def test_jsonb_columns_are_json_in_duckdb(demo_warehouse, snapshot):
    connection = open_snapshot(snapshot)
    columns = dict((row[0], row[1]) for row in run(connection, "describe drug_profile").rows)
    assert columns["special_populations"] == "JSON"
    expected = analyst_rows(
        demo_warehouse,
        "select drug_id, special_populations from drug_profile order by drug_id",
    )
    found = run(connection, "select drug_id, special_populations from drug_profile order by 1")

    assert [(row[0], json.loads(row[1])) for row in found.rows] == [
        (row["drug_id"], row["special_populations"]) for row in expected
    ]


def test_export_refuses_a_used_folder_and_unknown_marts(demo_warehouse, tmp_path):
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")

    with pytest.raises(ExportError, match="not empty"):
        export_snapshot(demo_warehouse, used, ["drugs"])
    with pytest.raises(ExportError, match="no mart named nope"):
        export_snapshot(demo_warehouse, tmp_path / "new", ["nope"])
    with pytest.raises(ExportError, match="not built yet: county_health"):
        export_snapshot(demo_warehouse, tmp_path / "new", ["county_health"])
    assert not (tmp_path / "new").exists()

    one = export_snapshot(demo_warehouse, tmp_path / "one", ["drug_classes"])
    assert list(one["marts"]) == ["drug_classes"]
    assert sorted(path.name for path in (tmp_path / "one").iterdir()) == [
        "drug_classes.parquet",
        "manifest.json",
    ]
