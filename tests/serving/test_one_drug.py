"""One drug, every source, in the demo warehouse (every source's bundled real samples,
landed and built as `medmirror demo` does): adalimumab's DailyMed label, its FAERS cases
and the real PubMed citation naming it (PMID 32719413 in
samples/pubmed/pubmed21n1063_updatefile_sample.xml.gz) meet in `marts.drug_profile`, the
README's example. No real ClinicalTrials.gov study naming a drug of the samples has been
found yet (README, "Real replays, source by source"): the demo links no trial."""

from __future__ import annotations

from tests.serving.conftest import analyst_rows

ADALIMUMAB = "afecb147a9625949"
ARTICLE = "32719413"
TITLE = (
    "Comparative efficacy of antitumor necrosis factor agents and tacrolimus in naïve "
    "steroid-refractory ulcerative colitis patients."
)


def test_the_demo_samples_show_adalimumab_with_its_label_cases_and_article(demo_warehouse):
    # The README's query.
    (profile,) = analyst_rows(
        demo_warehouse,
        "select generic_name, boxed_warning, special_populations, top_signals, recent_trials, "
        "recent_articles, adverse_event_case_count from drug_profile "
        "where generic_name = 'adalimumab'",
    )

    # The label (DailyMed's HUMIRA SPL): its boxed warning and special populations.
    assert profile["boxed_warning"].startswith("SERIOUS INFECTIONS\nPatients treated with HUMIRA")
    assert profile["special_populations"]["pregnancy_category"] == "B"
    assert profile["special_populations"]["pediatric_youngest_age_years"] == 4.0
    assert analyst_rows(
        demo_warehouse,
        "select set_id, sources from drug_labels where %s = any(drug_ids)",
        ADALIMUMAB,
    ) == [{"set_id": "608d4f0d-b19f-46d3-749a-7159aa5f933d", "sources": ["dailymed"]}]
    # FAERS: the cases naming it (prod_ai ADALIMUMAB, drug name HUMIRA).
    assert profile["adverse_event_case_count"] == 5
    # PubMed: the citation whose MEDLINE chemical list names it by UNII.
    assert profile["recent_articles"] == [
        {"pmid": ARTICLE, "title": TITLE, "link_method": "unii", "publication_date": "2020-07-27"}
    ]
    assert analyst_rows(
        demo_warehouse,
        "select drug_id, pmid, substance_name, registry_number, journal_title "
        "from drug_articles order by article_chemical_id",
    ) == [
        {
            "drug_id": ADALIMUMAB,
            "pmid": ARTICLE,
            "substance_name": "Adalimumab",
            "registry_number": "FYS6T7F842",
            "journal_title": "Scientific reports",
        }
    ]
    # ClinicalTrials.gov: none of the real studies bundled names a drug of the samples.
    assert profile["recent_trials"] == []
    assert analyst_rows(demo_warehouse, "select count(*) as trials from drug_trials") == [
        {"trials": 0}
    ]

    # The drugs mart counts the same links.
    assert analyst_rows(
        demo_warehouse,
        "select linked_article_count, linked_trial_count, adverse_event_case_count "
        "from drugs where drug_id = %s",
        ADALIMUMAB,
    ) == [{"linked_article_count": 1, "linked_trial_count": 0, "adverse_event_case_count": 5}]
