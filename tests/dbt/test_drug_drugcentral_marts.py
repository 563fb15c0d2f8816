"""DrugCentral and NCCIH in the drug picture: real dbt on the real DailyMed samples
(Lipitor, samples/dailymed/) and the DrugCentral slice (tests/fixtures/drugcentral/:
constructed in DrugCentral's schema with real public identifiers), and NCCIH's herbs
(constructed pages, tests/fixtures/nccih/) linked by name."""

from __future__ import annotations

import gzip
from pathlib import Path

from medmirror.settings import SAMPLES_DIR
from tests.conftest import build_models, land_source, query
from tests.extract.test_drugcentral import (
    drugcentral_db,  # noqa: F401
    land_drugcentral,
)
from tests.extract.test_nccih import (
    site,  # noqa: F401
)

ATORVASTATIN = "A0JWA85V8F"


def test_drugs_get_their_drugcentral_targets_atc_codes_and_identifiers_by_unii(
    database,
    drugcentral_db,  # noqa: F811
):
    land_source(database, "dailymed", bulk_location=str(SAMPLES_DIR / "dailymed"))
    land_drugcentral(database, drugcentral_db)

    drug_marts = ("drugs", "drug_drugcentral_ingredients", "drug_targets", "drug_atc_codes")
    build_models(database, *drug_marts, "drug_identifiers", sources=["dailymed", "drugcentral"])

    ((drug_id,),) = query(
        database, "select drug_id from marts.drugs where active_moiety_uniis = %s", [ATORVASTATIN]
    )
    assert query(
        database,
        "select drug_id, struct_id, drugcentral_name, moiety_unii, link_method "
        "from marts.drug_drugcentral_ingredients",
    ) == [(drug_id, 257, "atorvastatin", ATORVASTATIN, "unii")]
    assert query(
        database,
        "select generic_name, gene_symbols, action_type, is_mechanism_of_action "
        "from marts.drug_targets where drug_id = %s",
        drug_id,
    ) == [("atorvastatin", "HMGCR", "INHIBITOR", True)]
    assert query(
        database,
        "select atc_code, level4_name from marts.drug_atc_codes where drug_id = %s",
        drug_id,
    ) == [("C10AA05", "HMG CoA reductase inhibitors")]
    assert query(
        database,
        "select identifier_type, identifier from marts.drug_identifiers where drug_id = %s "
        "order by 1",
        drug_id,
    ) == [("DRUGBANK_ID", "DB01076"), ("RXNORM", "83367"), ("UNII", ATORVASTATIN)]
    # Adalimumab and the others have no UNII DrugCentral's slice gives: no rows, no guess.
    assert query(database, "select count(distinct drug_id) from marts.drug_identifiers") == [(1,)]


def test_herbs_are_linked_to_uniis_by_name(database, site, tmp_path: Path):  # noqa: F811
    # A variant of a real PubMed record (samples/pubmed/efetch_pubmed_29768149.xml): the
    # chemical "Terbutaline" (registry number N8ONU3L3PG, a UNII) renamed "Zingiber
    # officinale", ginger's Latin name on NCCIH's page. It tests the link's mechanics; it
    # says nothing about ginger.
    release = tmp_path / "pubmed"
    release.mkdir()
    original = (SAMPLES_DIR / "pubmed" / "efetch_pubmed_29768149.xml").read_bytes()
    renamed = original.replace(b'UI="D013726">Terbutaline<', b'UI="D013726">Zingiber officinale<')
    assert renamed != original
    (release / "pubmed_variant.xml.gz").write_bytes(gzip.compress(renamed))
    land_source(database, "nccih")
    land_source(database, "pubmed", bulk_location=str(release))

    build_models(database, "herb_links", sources=["nccih", "pubmed"])

    assert query(
        database,
        "select slug, matched_name, link_method, unii, linked_via, article_count "
        "from marts.herb_links",
    ) == [("ginger", "Zingiber officinale", "latin_name", "N8ONU3L3PG", "pubmed_chemical", 1)]
