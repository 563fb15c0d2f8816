"""`medmirror report links`: the drug-link report as the command prints it, on the real
samples and the variants derived from real records (tests/dbt/test_drug_links.py)."""

from __future__ import annotations

import re

from tests.dbt.test_drug_links import linked_database  # noqa: F401 - a fixture
from tests.flows.test_report import medmirror


def test_report_links_prints_shares_by_method_and_the_refused_names(
    linked_database,  # noqa: F811 - the fixture imported above
):
    printed = medmirror("report", "links")

    assert printed.returncode == 0, printed.stderr
    for metric, value, share in [
        ("trial_interventions_linked", "3", "27.3%"),
        ("trial_interventions_linked_by_brand_name", "1", "9.1%"),
        ("trial_interventions_conflicting", "1", "9.1%"),
        ("article_chemicals_linked_by_unii", "2", None),  # 41617358 and the 2021 32719413
    ]:
        pattern = rf"│ {metric}\s+│ {value}\s+│[^│]+│ {re.escape(share) if share else '[^│]+'}\s*│"
        assert re.search(pattern, printed.stdout), (metric, printed.stdout)
    # The refused record, listed with the drugs it could mean.
    assert "1 records not linked because they could mean several drugs" in printed.stdout
    assert re.search(
        r"│ clinicaltrials\s+│ Atorvastatin\s+│ conflicting\s+│ adalimumab, atorvastatin",
        printed.stdout,
    ), printed.stdout


def test_report_links_before_the_marts_are_built(new_database):
    printed = medmirror("report", "links")

    assert printed.returncode == 1
    assert "ops.drug_link_report is not built yet" in printed.stderr
