"""One drug, every source: the drug links (drug_trials, drug_articles, FAERS drug rows)
made by real dbt on what the real extracts landed from the real samples (DailyMed,
openFDA, Orange Book, ClinicalTrials.gov, PubMed, FAERS) plus variants derived from real
records (tests/fixtures/drugs/derived/links, see its derive.py): links made and links
refused, a combination only to the combination, conflicting names to no drug."""

from __future__ import annotations

import pytest

from flows.dbt_runner import build_sources
from medmirror.settings import ConnectionInfo
from tests.conftest import (
    DERIVED,
    WITH_SAMPLES,
    land_source,
    query,
    samples_template,
    template_from_empty,
)
from tests.dbt.test_drugs_consolidation import COMBINATION, drug_id
from tests.warehouses import Templates

LINKS = DERIVED / "drugs" / "derived" / "links"
ADALIMUMAB, ATORVASTATIN, HALOPERIDOL = "FYS6T7F842", "A0JWA85V8F", "J6292F8L3D"
# The sources whose link variants land (the drug sources they link to hold their samples).
VARIANT_SOURCES = ["clinicaltrials", "pubmed", "faers"]


def land_link_variants(connection: ConnectionInfo) -> None:
    """The variants derived from real records that make and refuse links (the real
    samples they sit beside are in the demo warehouse already)."""
    for source in VARIANT_SOURCES:
        land_source(connection, source, bulk_location=str(LINKS / source))


def outcomes(connection: ConnectionInfo, statement: str) -> dict:
    return {row[0]: row[1:] for row in query(connection, statement)}


@pytest.fixture
def linked_database(database: ConnectionInfo, templates: Templates) -> ConnectionInfo:
    """The demo warehouse (every source's real samples landed and built, shared with the
    serving tests) with the link variants landed and built as a refresh of the sources
    they land in builds: everything those feed, the link marts and the drug marts
    included (once per run, copied for each test that asks). The drug sources landed
    nothing new, so what only they feed is the demo's (243 nodes instead of 399)."""

    def fill(connection: ConnectionInfo) -> None:
        land_link_variants(connection)
        build_sources(connection, VARIANT_SOURCES)

    demo = samples_template(templates, WITH_SAMPLES)
    return templates.fresh(template_from_empty(templates, "tmpl_linked", fill, base=demo))


def test_drugs_link_to_trials_articles_and_adverse_events(linked_database):
    database = linked_database

    # The dictionary: a combination is named by its set of ingredients, never by one.
    names = query(
        database,
        "select lookup_kind, lookup_value from intermediate.int_drug_name_dictionary "
        "where drug_id = %s order by 1, 2",
        drug_id(COMBINATION),
    )
    assert ("name", "DIPHENHYDRAMINE + PHENYLEPHRINE") in names
    assert ("unii", COMBINATION) in names
    assert not {("name", "PHENYLEPHRINE"), ("name", "DIPHENHYDRAMINE")} & set(names)

    # Trials: the derived interventions of NCT00763412 (real study, names added).
    trials = outcomes(
        database,
        "select intervention_name, outcome, drug_id, link_method "
        "from intermediate.int_trial_intervention_drug_matches where nct_id = 'NCT00763412'",
    )
    assert trials["Atorvastatin Calcium"] == ("linked", drug_id(ATORVASTATIN), "exact_name")
    assert trials["HUMIRA"] == ("linked", drug_id(ADALIMUMAB), "brand_name")
    assert trials["Diphenhydramine HCl and Phenylephrine HCl"] == (
        "linked", drug_id(COMBINATION), "exact_name",
    )  # fmt: skip
    # Refused: an ingredient only a combination holds, combinations that do not exist
    # (never acetaminophen or atorvastatin alone), names of two different drugs.
    assert trials["Phenylephrine"] == ("unmatched", None, None)
    assert trials["Acetaminophen and Codeine"] == ("unmatched", None, None)
    assert trials["Atorvastatin and Ezetimibe"] == ("unmatched", None, None)
    assert trials["Atorvastatin"] == ("conflicting", None, None)
    assert trials["repaglinide"] == ("unmatched", None, None)
    assert query(
        database,
        "select intervention_name, link_method, brief_title is not null from marts.drug_trials "
        "where drug_id = %s",
        drug_id(ATORVASTATIN),
    ) == [("Atorvastatin Calcium", "exact_name", True)]
    # The real trials' interventions name no drug of the samples: none links.
    assert query(
        database, "select count(*) from marts.drug_trials where nct_id <> 'NCT00763412'"
    ) == [(0,)]

    # Articles: the derived revision of 41617358 (adalimumab by UNII; phenylephrine's UNII
    # is only part of the combination: refused), the real chemicals (Calcium, Testosterone, ...),
    # the real 32719413 of the 2021 update-file sample (adalimumab by UNII).
    articles = outcomes(
        database,
        "select substance_name, outcome, drug_id, link_method "
        "from intermediate.int_article_chemical_drug_matches",
    )
    assert articles["Adalimumab"] == ("linked", drug_id(ADALIMUMAB), "unii")
    assert articles["Phenylephrine"] == ("unmatched", None, None)
    assert articles["Calcium"] == ("unmatched", None, None)
    assert articles["Testosterone"] == ("unmatched", None, None)
    assert query(
        database, "select pmid, drug_id, link_method from marts.drug_articles order by pmid"
    ) == [
        ("32719413", drug_id(ADALIMUMAB), "unii"),
        ("41617358", drug_id(ADALIMUMAB), "unii"),
    ]

    # FAERS: real prod_ai values (ADALIMUMAB, ATORVASTATIN CALCIUM, HALOPERIDOL), real
    # legacy drug names (LIPITOR, HUMIRA: brands), the derived combination rows.
    faers = outcomes(
        database,
        "select coalesce(active_ingredient, '') || '|' || coalesce(drug_name, ''), outcome, "
        "drug_id, link_method from intermediate.int_faers_drug_matches",
    )
    assert faers["ADALIMUMAB|HUMIRA"] == ("linked", drug_id(ADALIMUMAB), "exact_name")
    assert faers["ATORVASTATIN CALCIUM|LIPITOR"] == ("linked", drug_id(ATORVASTATIN), "exact_name")
    assert faers["HALOPERIDOL|HALDOL"] == ("linked", drug_id(HALOPERIDOL), "exact_name")
    assert faers["|LIPITOR"] == ("linked", drug_id(ATORVASTATIN), "brand_name")
    assert faers["|HUMIRA"] == ("linked", drug_id(ADALIMUMAB), "brand_name")
    assert faers["|ATORVASTATIN"] == ("linked", drug_id(ATORVASTATIN), "exact_name")
    assert faers["DIPHENHYDRAMINE HYDROCHLORIDE\\PHENYLEPHRINE HYDROCHLORIDE|TRIAMINIC"] == (
        "linked", drug_id(COMBINATION), "exact_name",
    )  # fmt: skip
    assert faers["ATORVASTATIN CALCIUM\\EZETIMIBE|LIPTRUZET"][:2] == ("unmatched", None)
    assert faers["ACETAMINOPHEN\\HYDROCODONE BITARTRATE|NORCO"][:2] == ("unmatched", None)
    assert faers["HALOPERIDOL DECANOATE|HALOPERIDOL DECANOATE."][:2] == ("unmatched", None)

    # The marts carry the drug: adverse_event_drugs rows and the signals of their names.
    assert query(
        database,
        "select drug_name, drug_id, drug_link_method from marts.adverse_event_drugs "
        "where caseid = '13371964' order by drug_seq",
    ) == [
        ("HUMIRA", drug_id(ADALIMUMAB), "exact_name"),
        ("TRIAMINIC", drug_id(COMBINATION), "exact_name"),
        ("LIPTRUZET", None, None),
        ("LIPITOR", drug_id(ATORVASTATIN), "brand_name"),
    ]
    mixed = query(
        database,
        "select count(*) from marts.drug_reaction_signals where drug_id is not null "
        "and drug_id not in (select drug_id from marts.drugs)",
    )
    assert mixed == [(0,)]

    # A link never joins two ingredient sets: each linked row's drug has exactly the
    # ingredient set its matched value names.
    assert query(
        database,
        """
        select count(*) from (
            select drug_id, matched_value, link_method from marts.drug_trials
            union all select drug_id, matched_value, link_method from marts.drug_articles
        ) as links
        where not exists (
            select from intermediate.int_drug_name_dictionary as dictionary
            where dictionary.drug_id = links.drug_id
                and dictionary.lookup_value = links.matched_value
                and not dictionary.is_ambiguous
        )
        """,
    ) == [(0,)]

    # Refused records are listed; the report counts them.
    assert query(
        database,
        "select source, source_text, outcome, candidate_drug_ids "
        "from marts.drug_link_ambiguities",
    ) == [
        (
            "clinicaltrials", "Atorvastatin", "conflicting",
            sorted([drug_id(ATORVASTATIN), drug_id(ADALIMUMAB)]),
        )
    ]  # fmt: skip
    report = {
        metric: (value, out_of)
        for metric, value, out_of in query(
            database, "select metric, value, out_of from ops.drug_link_report"
        )
    }
    assert report["trial_interventions_in"][0] == 11  # 9 of NCT00763412, 2 of NCT00711542
    assert report["trial_interventions_linked"] == (3, 11)
    assert report["trial_interventions_linked_by_brand_name"] == (1, 11)
    assert report["trial_interventions_conflicting"] == (1, 11)
    assert report["article_chemicals_linked_by_unii"][0] == 2

    # Counts on the drugs mart and the one-row profile.
    counts = query(
        database,
        "select linked_trial_count, linked_article_count, adverse_event_case_count "
        "from marts.drugs where drug_id = %s",
        drug_id(ADALIMUMAB),
    )
    assert counts == [(1, 2, 5)]  # 3 cases of 2017Q2 (13371964 at version 2), 2 of 2004Q1
    (profile,) = query(
        database,
        "select generic_name, special_populations ->> 'pregnancy_category', recent_trials, "
        "recent_articles, linked_trial_count, adverse_event_case_count "
        "from marts.drug_profile where drug_id = %s",
        drug_id(ADALIMUMAB),
    )
    assert profile[:2] == ("adalimumab", "B")
    assert [trial["nct_id"] for trial in profile[2]] == ["NCT00763412"]
    assert [article["pmid"] for article in profile[3]] == ["41617358", "32719413"]  # newest first
    assert profile[4:] == (1, 5)
