"""Who publishes each source, under which licence, and the credit an answer gives.

The publisher and licence text are the README's "Sources and licences" table (a test
keeps the two the same). Which sources a mart comes from is read from dbt's lineage
(`serving.catalog`), so every answer names exactly the licences of what it holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Licence:
    source: str
    publisher: str
    licence: str  # the README's "licence and terms", verbatim (Markdown)
    attribution: str  # the credit line to show with the data

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _licence(source: str, publisher: str, licence: str, attribution: str) -> Licence:
    return Licence(source, publisher, licence, attribution)


LICENCES: dict[str, Licence] = {
    item.source: item
    for item in [
        _licence(
            "clinicaltrials",
            "NLM, ClinicalTrials.gov",
            "US government, public domain; ClinicalTrials.gov terms: say where the data came "
            "from and when, imply no endorsement",
            "Data from ClinicalTrials.gov (U.S. National Library of Medicine), as of the "
            "load time given; not endorsed by NLM.",
        ),
        _licence(
            "pubmed",
            "NLM, PubMed/MEDLINE",
            "NLM's terms for MEDLINE/PubMed data; abstracts may be copyrighted by their publishers",
            "Citations from PubMed/MEDLINE, courtesy of the U.S. National Library of "
            "Medicine; abstracts remain their publishers' copyright.",
        ),
        _licence(
            "orangebook",
            "FDA",
            "US government, public domain",
            "Approved Drug Products with Therapeutic Equivalence Evaluations (Orange Book), "
            "U.S. Food and Drug Administration.",
        ),
        _licence(
            "dailymed",
            "NLM / FDA, DailyMed SPL",
            "US government, public domain (label text)",
            "Drug labels from DailyMed (U.S. National Library of Medicine / FDA SPL).",
        ),
        _licence(
            "openfda",
            "FDA, openFDA",
            "CC0 / public domain; openFDA terms of service, no implied endorsement",
            "Data from openFDA (U.S. Food and Drug Administration); not endorsed by FDA.",
        ),
        _licence(
            "rxnav",
            "NLM, RxNav/RxNorm APIs",
            "free API under NLM's terms; no UMLS licence needed for the API, RxNorm release "
            "files need one",
            "RxNorm and RxClass data from NLM's RxNav APIs (U.S. National Library of Medicine).",
        ),
        _licence(
            "faers",
            "FDA, FAERS",
            "US government, public domain",
            "FDA Adverse Event Reporting System (FAERS), U.S. Food and Drug Administration; "
            "reports do not establish causation.",
        ),
        _licence(
            "icd10cm",
            "CDC NCHS / CMS",
            "US government, public domain",
            "ICD-10-CM, National Center for Health Statistics (CDC) and CMS.",
        ),
        _licence(
            "hcpcs",
            "CMS, HCPCS Level II",
            "US government, public domain (Level I is CPT: not mirrored)",
            "HCPCS Level II codes, Centers for Medicare & Medicaid Services.",
        ),
        _licence(
            "medlineplus",
            "NLM, MedlinePlus",
            "NLM's terms; US government text public domain, licensed third-party content excluded",
            "Health topics from MedlinePlus (U.S. National Library of Medicine).",
        ),
        _licence(
            "fooddata",
            "USDA, FoodData Central",
            "CC0 1.0; a free data.gov API key",
            "U.S. Department of Agriculture, Agricultural Research Service. FoodData Central.",
        ),
        _licence(
            "census",
            "US Census Bureau, ACS",
            'public domain; "uses the Census Bureau Data API but is not endorsed or '
            'certified by the Census Bureau"; key optional',
            "This product uses the Census Bureau Data API but is not endorsed or certified "
            "by the Census Bureau.",
        ),
        _licence(
            "cdcplaces",
            "CDC, PLACES",
            "US government, public domain; cite CDC; app token optional",
            "Centers for Disease Control and Prevention, PLACES: Local Data for Better Health.",
        ),
        _licence(
            "drugcentral",
            "DrugCentral (University of New Mexico)",
            "**CC BY-SA 4.0**: attribution kept in `marts.drugcentral_releases`; share "
            "derived data alike",
            "DrugCentral (University of New Mexico), CC BY-SA 4.0 "
            "(https://creativecommons.org/licenses/by-sa/4.0/); derived data must be "
            "shared alike.",
        ),
        _licence(
            "nccih",
            "NCCIH, Herbs at a Glance",
            "US government, public domain; credit NCCIH",
            "Herbs at a Glance, National Center for Complementary and Integrative Health (NCCIH).",
        ),
        _licence(
            "exercises",
            "free-exercise-db (github.com/yuhonas/free-exercise-db)",
            "the Unlicense (public domain); the pictures stay at the publisher",
            "Exercises from free-exercise-db (github.com/yuhonas/free-exercise-db), public domain.",
        ),
    ]
}


def licences_for(sources: Iterable[str]) -> list[dict[str, str]]:
    """The licence of each source, in the order of the table (unknown names left out)."""
    wanted = set(sources)
    return [item.as_dict() for name, item in LICENCES.items() if name in wanted]
