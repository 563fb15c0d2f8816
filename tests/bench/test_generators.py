"""The benchmark generators write what the real extracts read: generated DailyMed releases,
FAERS quarters and openFDA NDC partitions go through each source's own readers (no
database: `bench.pipeline` lands and builds them), with the variety the benchmarks need
(fresh keys, varied drugs, later versions, deletions)."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import orjson
import pytest

from bench.dailymed_generator import (
    LabelGenerator,
    delta_labels,
    write_release,
    write_update,
)
from bench.faers_generator import FIRST_CASE, ReportGenerator, write_quarter
from bench.openfda_generator import ProductGenerator, write_partition
from extract.bulk import iter_members
from extract.dailymed.release import SplFile, release_kind, spl_files
from extract.dailymed.spl import parse_spl
from extract.faers.helpers import QuarterFile, file_kind_of, quarter_of, read_quarter_file
from extract.openfda.helpers import iter_partition, ndc_row
from medmirror.settings import SAMPLES_DIR


@pytest.fixture(scope="module")
def label_generator() -> LabelGenerator:
    return LabelGenerator()


def dailymed_records(folder: Path) -> list[dict]:
    records = []
    for path in sorted(folder.iterdir()):
        if not release_kind(path):
            continue
        for spl in spl_files(path):
            assert isinstance(spl, SplFile), spl  # nothing the extract would reject
            records.append(parse_spl(spl.read(), where=spl.uri))
    return records


def test_dailymed_labels_are_new_labels_of_varied_drugs_in_release_zips(
    tmp_path: Path, label_generator: LabelGenerator
):
    generator = label_generator
    assert write_release(generator.labels(60), tmp_path / "release", per_part=25) == 60
    names = sorted(path.name for path in (tmp_path / "release").iterdir())
    assert "dm_spl_release_human_rx_part1.zip" in names
    assert "dm_spl_release_human_otc_part2.zip" in names  # more OTC than 25: a second part
    records = dailymed_records(tmp_path / "release")
    labels = [record for record in records if record.get("products")]
    assert len(labels) == 60 and len(records) == 61  # and the real indexing SPL

    assert len({record["set_id"] for record in labels}) == 60
    real = {
        parse_spl(path.read_bytes(), where="")["set_id"]
        for path in SAMPLES_DIR.glob("dailymed/*.xml")
    }
    assert not real & {record["set_id"] for record in labels}
    ndcs = Counter(
        product["ndc_product_code"] for record in labels for product in record["products"]
    )
    assert ndcs and max(ndcs.values()) == 1  # an NDC belongs to one label
    moieties = Counter(
        moiety["unii"]
        for record in labels
        for product in record["products"]
        for ingredient in product.get("active_ingredients", [])
        for moiety in ingredient.get("active_moieties", [])
    )
    assert len(moieties) >= 30
    titles = " ".join(record.get("title") or "" for record in labels).upper()
    assert titles.count("LIPITOR") < 3  # the templates' brand replaced (rarely drawn again)
    kinds = Counter(record["document_type"]["code"] for record in labels)
    assert kinds["34390-5"] > kinds["34391-3"] > 0  # OTC labels outnumber prescription ones


def test_a_dailymed_delta_holds_later_versions_of_the_same_labels_and_new_ones(
    tmp_path: Path, label_generator: LabelGenerator
):
    generator = label_generator
    first = {record["set_id"]: record for record in map(_parsed, generator.labels(400))}
    assert write_update(delta_labels(generator, 400), tmp_path) == 4
    (update,) = tmp_path.iterdir()
    assert update.name == "dm_spl_daily_update_11212026.zip"
    later = dailymed_records(tmp_path)
    again = [record for record in later if record["set_id"] in first]
    assert len(again) == 2 and len(later) == 4
    for record in again:
        before = first[record["set_id"]]
        assert record["version"] == before["version"] + 1
        assert record["effective_time"] > before["effective_time"]
        assert record["products"] == before["products"]


def _parsed(label) -> dict:
    return parse_spl(label.xml, where=label.set_id)


def faers_rows(folder: Path) -> dict[str, dict[str, list[dict]]]:
    """Rows by quarter and file kind, read as the extract reads them."""
    found: dict[str, dict[str, list[dict]]] = {}
    for member in iter_members(folder, source="faers", suffixes=(".txt",)):
        kind, quarter = file_kind_of(member), quarter_of(member)
        assert kind and quarter, member.uri
        quarter_file = QuarterFile(kind, quarter)
        parsed = read_quarter_file(member, quarter_file.kind)
        assert not parsed.ragged and not parsed.recoded
        found.setdefault(quarter_file.quarter, {})[quarter_file.kind] = parsed.rows.to_pylist()
    return found


def test_faers_quarters_hold_new_cases_follow_ups_and_deleted_cases(tmp_path: Path):
    generator = ReportGenerator(reports_per_quarter=200)
    for quarter in range(3):
        write_quarter(generator, quarter, tmp_path)
    with zipfile.ZipFile(tmp_path / "faers_ascii_2015q2.zip") as archive:
        assert "ascii/DEMO15Q2.txt" in archive.namelist()
    rows = faers_rows(tmp_path)
    assert sorted(rows) == ["2015Q1", "2015Q2", "2015Q3"]
    first, second = rows["2015Q1"], rows["2015Q2"]
    assert len(first["DEMO"]) == len(second["DEMO"]) == 200
    assert "DELETE" not in first and len(second["DELETE"]) == 1

    versions = {row["caseid"]: int(row["caseversion"]) for row in first["DEMO"]}
    follow_ups = [row for row in second["DEMO"] if row["caseid"] in versions]
    assert len(follow_ups) == 30  # 15% of the quarter
    for row in follow_ups:
        assert int(row["caseversion"]) == versions[row["caseid"]] + 1
        assert row["primaryid"] == f"{row['caseid']}{row['caseversion']}"
        assert (
            row["i_f_code"] == "F"
            and row["fda_dt"].startswith("2015")
            and row["fda_dt"][4:6] in ("04", "05", "06")
        )
    assert all(int(row["caseid"]) >= FIRST_CASE for row in second["DEMO"])
    # every report's rows point at its DEMO row; drugs and reactions are varied
    primaryids = {row["primaryid"] for row in second["DEMO"]}
    assert {row["primaryid"] for row in second["DRUG"]} <= primaryids
    assert len({row["prod_ai"] for row in second["DRUG"]}) > 100
    assert len({row["pt"] for row in second["REAC"]}) > 100


def test_openfda_ndc_partition_holds_new_products_of_real_names(tmp_path: Path):
    target = write_partition(ProductGenerator(), 500, tmp_path)
    assert target.name == "drug-ndc-0001-of-0001.json.zip"
    with zipfile.ZipFile(target) as archive, archive.open("drug-ndc-0001-of-0001.json") as stream:
        rows = [
            ndc_row(record, source_uri=str(target), where=str(target))
            for record in iter_partition(stream, where=str(target))
        ]
    assert len(rows) == 500 and len({row["product_id"] for row in rows}) == 500
    assert all(row["product_ndc"].startswith(("7", "8")) for row in rows)  # 70000 up
    assert all(row["listing_expiration_date"].year >= 2024 for row in rows)
    records = [orjson.loads(row["record"]) for row in rows]
    assert len({record["labeler_name"] for record in records}) > 20
    assert len({record["generic_name"] for record in records}) > 100
    finished = Counter(record["finished"] for record in records)
    assert finished[True] > finished[False] > 0
