"""`medmirror report drugs`: the consolidation report's numbers, counted again from the
raw tables the drug sources landed, as the command prints them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from flows.report import report
from medmirror.settings import SAMPLES_DIR
from tests.conftest import DERIVED, build_models, land_source, query

MEDMIRROR = Path(sys.executable).parent / "medmirror"
NAME_VARIANTS = DERIVED / "drugs" / "derived" / "name_variants"

# Counted from raw: the current version of each label set (DailyMed: highest version;
# openFDA: its current listing per product NDC), class-indexing SPLs left out.
RAW_COUNTS = {
    "dailymed_labels_in": """
        select count(distinct set_id) from raw_dailymed.labels
        where record #>> '{document_type,code}' <> '60685-5'
    """,
    "openfda_labels_in": "select count(distinct set_id) from raw_openfda.labels",
    "labels_in": """
        select count(*) from (
            select set_id from raw_dailymed.labels
            where record #>> '{document_type,code}' <> '60685-5'
            union
            select set_id from raw_openfda.labels
        ) as labels
    """,
    "products_in": """
        select
            (select coalesce(sum(jsonb_array_length(record -> 'products')), 0)
             from (select distinct on (set_id) record from raw_dailymed.labels
                   order by set_id, version desc, _dlt_load_id desc) as current)
            + (select count(distinct product_ndc) from raw_openfda.ndc)
    """,
    # A product nothing can key a drug by: no active ingredient and no generic name.
    "products_unlinked": """
        select count(distinct product_ndc) from raw_openfda.ndc
        where jsonb_array_length(record -> 'active_ingredients') = 0
            and coalesce(record ->> 'generic_name', '') = ''
    """,
    "drugs_with_rxnorm_id": """
        select count(distinct record #>> '{openfda,unii,0}') from raw_openfda.ndc
        where jsonb_array_length(record #> '{openfda,rxcui}') > 0
    """,
}


def medmirror(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MEDMIRROR, *args],
        env=dict(os.environ, COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_report_drugs_counts_what_landed(database):
    # No Orange Book, no RxNav: the drug marts build without them.
    land_source(database, "dailymed", bulk_location=str(SAMPLES_DIR / "dailymed"))
    land_source(database, "openfda", bulk_location=str(SAMPLES_DIR / "openfda"))
    land_source(database, "openfda", bulk_location=str(NAME_VARIANTS))
    build_models(database, "drugs", "drug_consolidation_report", sources=["dailymed", "openfda"])

    lines = {line.metric: line for line in report(database, "drugs")}

    for metric, statement in RAW_COUNTS.items():
        assert lines[metric].value == query(database, statement)[0][0], metric
    assert lines["labels_in"].value == 7  # 5 DailyMed drug labels, 2 openFDA labels
    assert lines["products_in"].value == 17  # 11 DailyMed products, 6 NDC listings
    assert lines["products_unlinked"].value == 1
    assert lines["products_linked"].value == 16
    assert lines["formulations_out"].value == 17
    assert lines["formulations_linked"].value == 16
    assert lines["formulations_with_te_code"].value == 0  # no Orange Book landed
    drugs = query(
        database,
        """
        select count(*), count(*) filter (where is_combination),
               count(*) filter (where has_pregnancy), count(*) filter (where has_lactation),
               count(*) filter (where has_reproductive_potential),
               count(*) filter (where has_pediatric_use),
               count(*) filter (where has_geriatric_use)
        from marts.drugs
        """,
    )[0]
    assert drugs == (7, 1, 4, 4, 0, 5, 5)
    assert [
        lines[metric].value
        for metric in (
            "drugs_out",
            "combination_drugs",
            "drugs_with_pregnancy",
            "drugs_with_lactation",
            "drugs_with_reproductive_potential",
            "drugs_with_pediatric_use",
            "drugs_with_geriatric_use",
        )
    ] == list(drugs)
    assert lines["drugs_with_pregnancy"].out_of == 7
    assert lines["drugs_with_pregnancy"].share == Decimal("0.5714")
    assert lines["drugs_with_pregnancy_category"].value == 2  # HUMIRA B, Lipitor X

    printed = medmirror("report", "drugs")

    assert printed.returncode == 0, printed.stderr
    for metric, value in [("labels_in", "7"), ("products_in", "17"), ("products_unlinked", "1"),
                          ("drugs_out", "7"), ("drugs_with_pregnancy", "4")]:  # fmt: skip
        assert re.search(rf"│ {metric}\s+│ {value}\s+│", printed.stdout), (metric, printed.stdout)
    assert "57.1%" in printed.stdout


def test_report_drugs_before_the_marts_are_built(new_database):
    printed = medmirror("report", "drugs")

    assert printed.returncode == 1
    assert "ops.drug_consolidation_report is not built yet" in printed.stderr
