"""The sources medmirror knows: each source package's `SPEC`, listed here.

A source listed in `SOURCES` is part of `medmirror refresh`, `medmirror init`, `medmirror
demo` (when it bundles samples), `medmirror status` and the Prefect deployments. What a
source lands, feeds and needs is declared in its own package (`extract/<source>/`).
"""

from __future__ import annotations

from extract import (
    cdcplaces,
    census,
    clinicaltrials,
    dailymed,
    drugcentral,
    exercises,
    faers,
    fooddata,
    hcpcs,
    icd10cm,
    medlineplus,
    nccih,
    openfda,
    orangebook,
    pubmed,
    rxnav,
)
from extract.spec import SourceSpec

# Publishers whose data needs a licence or a paid agreement: medmirror does not scrape or
# mirror them. Asking for one says why (see the README's "Sources and licences").
LICENSED_ELSEWHERE: dict[str, str] = {
    "umls": "UMLS needs a UMLS Metathesaurus licence from NLM (uts.nlm.nih.gov)",
    "oncokb": "OncoKB needs a licence from Memorial Sloan Kettering (oncokb.org/account)",
    "nccn": "NCCN Guidelines are copyrighted; NCCN's terms forbid scraping",
    "cpt": "CPT codes are licensed by the American Medical Association",
}

# In the order a refresh of every source extracts them: RxNav enriches what the drug
# sources landed, so it comes after them.
SOURCES: dict[str, SourceSpec] = {
    package.SPEC.name: package.SPEC
    for package in (
        clinicaltrials,
        orangebook,
        pubmed,
        dailymed,
        openfda,
        faers,
        medlineplus,
        fooddata,
        icd10cm,
        hcpcs,
        census,
        cdcplaces,
        drugcentral,
        nccih,
        exercises,
        rxnav,
    )
}


def sources_refreshed(cadence: str) -> list[str]:
    """The sources refreshed on `cadence` ("daily", "monthly"), in registry order."""
    return [name for name, spec in SOURCES.items() if spec.cadence == cadence]


def sources_with_listed_releases() -> list[str]:
    """The sources whose release files (besides their API) are found on their publisher's
    page and landed by the monthly deployment (FAERS's quarters), in registry order."""
    return [name for name, spec in SOURCES.items() if spec.listed_releases]


def spec_of(name: str) -> SourceSpec:
    if name in LICENSED_ELSEWHERE:
        raise ValueError(f"{name} is not mirrored: {LICENSED_ELSEWHERE[name]}")
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise ValueError(f"unknown source {name!r} (known: {known})") from None
