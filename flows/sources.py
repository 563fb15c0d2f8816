"""The sources medmirror knows, and what each one lands and feeds.

Adding a source to `SOURCES` makes it part of `medmirror refresh`, `medmirror demo` (when
it bundles samples), `medmirror status` and the Prefect deployments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dlt
from dlt.extract.source import DltSource

from extract.cdcplaces import RAW_INDEXES as cdcplaces_raw_indexes
from extract.cdcplaces import cdcplaces
from extract.census import RAW_INDEXES as census_raw_indexes
from extract.census import census
from extract.clinicaltrials import RAW_INDEXES as clinicaltrials_raw_indexes
from extract.clinicaltrials import clinicaltrials
from extract.dailymed import RAW_INDEXES as dailymed_raw_indexes
from extract.dailymed import dailymed
from extract.drugcentral import RAW_INDEXES as drugcentral_raw_indexes
from extract.drugcentral import drugcentral
from extract.faers import RAW_INDEXES as faers_raw_indexes
from extract.faers import faers
from extract.fooddata import RAW_INDEXES as fooddata_raw_indexes
from extract.fooddata import fooddata
from extract.hcpcs import RAW_INDEXES as hcpcs_raw_indexes
from extract.hcpcs import hcpcs
from extract.icd10cm import RAW_INDEXES as icd10cm_raw_indexes
from extract.icd10cm import icd10cm
from extract.medlineplus import RAW_INDEXES as medlineplus_raw_indexes
from extract.medlineplus import medlineplus
from extract.nccih import RAW_INDEXES as nccih_raw_indexes
from extract.nccih import nccih
from extract.openfda import RAW_INDEXES as openfda_raw_indexes
from extract.openfda import openfda
from extract.orangebook import RAW_INDEXES as orangebook_raw_indexes
from extract.orangebook import orangebook
from extract.pubmed import RAW_INDEXES as pubmed_raw_indexes
from extract.pubmed import pubmed
from extract.rxnav import RAW_INDEXES as rxnav_raw_indexes
from extract.rxnav import rxnav
from medmirror.settings import DBT_PROJECT_DIR, SAMPLES_DIR


@dataclass(frozen=True)
class TokenGate:
    """A key or token of the user's own that a source sends to its publisher.

    `required`: the source runs only when it is configured, and otherwise is skipped with
    `message()`; an optional one (Census, Socrata app tokens) only raises the publisher's
    limits, and the source runs without it (its extract says so).
    """

    secret: str  # dlt secret name, e.g. "sources.census.api_key"
    required: bool
    sign_up: str  # where a user gets one

    def configured(self) -> bool:
        return bool(dlt.secrets.get(self.secret))

    def message(self, source: str) -> str:
        env = self.secret.upper().replace(".", "__")
        return (
            f"{source}: skipped, it needs your own key or token: get one at {self.sign_up} "
            f"and set {self.secret} in .dlt/secrets.toml (or {env})"
        )


# Publishers whose data needs a licence or a paid agreement: medmirror does not scrape or
# mirror them. Asking for one says why (see the README's "Sources and licences").
LICENSED_ELSEWHERE: dict[str, str] = {
    "umls": "UMLS needs a UMLS Metathesaurus licence from NLM (uts.nlm.nih.gov)",
    "oncokb": "OncoKB needs a licence from Memorial Sloan Kettering (oncokb.org/account)",
    "nccn": "NCCN Guidelines are copyrighted; NCCN's terms forbid scraping",
    "cpt": "CPT codes are licensed by the American Medical Association",
}


@dataclass(frozen=True)
class SearchExample:
    """A full-text query the demo runs on a mart to show what search finds."""

    mart: str
    query: str
    shown: tuple[str, ...]  # columns printed for each hit


@dataclass(frozen=True)
class SourceSpec:
    name: str
    # Builds the dlt source: from its API, or from bulk release files at a location.
    make_source: Callable[..., DltSource]
    raw_table: str  # the main raw table (for status: rows and newest record)
    cursor_column: str  # its cursor: the newest value is the newest record's date
    marts: tuple[str, ...]  # the marts it feeds (schema `marts`)
    raw_indexes: dict[str, tuple[str, ...]]  # raw table -> indexed columns
    samples: Path | None = None  # bundled real publisher files, landed by the demo
    search: SearchExample | None = None
    # How often the publisher changes: the scheduled deployment that refreshes it
    # (`refresh/daily` or `refresh/monthly`, see flows/deployments.py).
    cadence: str = "daily"
    token: TokenGate | None = None  # a key of the user's own it sends, if any

    def skip_reason(self) -> str | None:
        """Why this source cannot run now (a required token missing), or None."""
        if self.token and self.token.required and not self.token.configured():
            return self.token.message(self.name)
        return None

    @property
    def raw_schema(self) -> str:
        return f"raw_{self.name}"

    @property
    def sources_yml(self) -> Path:
        return DBT_PROJECT_DIR / "models" / "staging" / self.name / f"_{self.name}__sources.yml"

    def build(self, *, bulk: str | None, download_dir: Path) -> DltSource:
        if bulk:
            return self.make_source(bulk_location=bulk, download_dir=str(download_dir))
        return self.make_source()


SOURCES: dict[str, SourceSpec] = {
    spec.name: spec
    for spec in [
        SourceSpec(
            name="clinicaltrials",
            make_source=clinicaltrials,
            raw_table="studies",
            cursor_column="last_update_post_date",
            marts=("clinical_trials", "trial_conditions", "trial_interventions"),
            raw_indexes=clinicaltrials_raw_indexes,
            samples=SAMPLES_DIR / "clinicaltrials",
            search=SearchExample(
                mart="clinical_trials",
                query="growth hormone",
                shown=("nct_id", "brief_title", "overall_status"),
            ),
        ),
        SourceSpec(
            name="orangebook",
            make_source=orangebook,  # no arguments: FDA's current monthly release
            cadence="monthly",
            raw_table="products",
            cursor_column="approval_date",
            marts=("orange_book_products", "orange_book_patents", "orange_book_exclusivities"),
            raw_indexes=orangebook_raw_indexes,
            samples=SAMPLES_DIR / "orangebook",
            search=SearchExample(
                mart="orange_book_products",
                query="atorvastatin",
                shown=("product_id", "trade_name", "applicant", "strength", "marketing_status"),
            ),
        ),
        SourceSpec(
            name="pubmed",
            make_source=pubmed,
            raw_table="articles",
            cursor_column="date_revised",
            marts=("pubmed_articles", "article_authors", "article_mesh_terms", "article_chemicals"),
            raw_indexes=pubmed_raw_indexes,
            samples=SAMPLES_DIR / "pubmed",
            search=SearchExample(
                mart="pubmed_articles",
                query="chronic kidney disease",
                shown=("pmid", "title", "journal_abbreviation", "publication_year"),
            ),
        ),
        SourceSpec(
            name="dailymed",
            make_source=dailymed,
            raw_table="labels",
            cursor_column="effective_time",
            # The drug marts: DailyMed is their main source; openFDA, the Orange Book and
            # RxNav feed them too (built after any of them lands: dbt selects downstream).
            # The drug links read ClinicalTrials.gov, PubMed and FAERS too; they are listed
            # here, with the drugs they link to (each rebuilds when any of them lands).
            marts=(
                "drugs",
                "drug_formulations",
                "drug_labels",
                "drug_classes",
                "drug_trials",
                "drug_articles",
                "drug_link_ambiguities",
                "drug_profile",
                # The NDC, drug-class and name analyses (marts/analysis/).
                "ndc_products",
                "ndc_labelers",
                "pharmacologic_classes",
                "drug_class_counts",
                "drug_names",
                "drug_name_suffixes",
            ),
            raw_indexes=dailymed_raw_indexes,
            samples=SAMPLES_DIR / "dailymed",
            search=SearchExample(
                mart="drugs",
                query="lipitor",
                shown=("drug_id", "generic_name", "brand_names", "total_formulations"),
            ),
        ),
        SourceSpec(
            name="openfda",
            make_source=openfda,
            raw_table="labels",
            cursor_column="effective_time",
            marts=(),  # feeds the drug marts, listed under dailymed
            raw_indexes=openfda_raw_indexes,
            samples=SAMPLES_DIR / "openfda",
        ),
        SourceSpec(
            name="faers",
            # Daily: the openFDA window; quarterly ASCII files come in with --bulk.
            make_source=faers,
            raw_table="demo",
            cursor_column="fda_dt",
            marts=(
                "adverse_event_reports",
                "adverse_event_drugs",
                "adverse_event_reactions",
                "drug_reaction_signals",
            ),
            raw_indexes=faers_raw_indexes,
            samples=SAMPLES_DIR / "faers",
        ),
        SourceSpec(
            name="medlineplus",
            make_source=medlineplus,  # no arguments: NLM's current health topics file
            raw_table="health_topics",
            cursor_column="file_date",
            marts=("health_topics",),
            raw_indexes=medlineplus_raw_indexes,
            samples=SAMPLES_DIR / "medlineplus",
            search=SearchExample(
                mart="health_topics",
                query="abdominal pain",
                shown=("topic_id", "title", "language"),
            ),
        ),
        SourceSpec(
            name="fooddata",
            make_source=fooddata,
            cadence="monthly",  # FDC publishes its data in periodic releases
            token=TokenGate(  # the API's; its downloads (--bulk) need none
                "sources.fooddata.api_key",
                required=True,
                sign_up="https://fdc.nal.usda.gov/api-key-signup",
            ),
            raw_table="foods",
            cursor_column="published_date",
            marts=("food_items", "food_nutrients"),
            raw_indexes=fooddata_raw_indexes,
            samples=SAMPLES_DIR / "fooddata",  # a download constructed from real records
            search=SearchExample(
                mart="food_items",
                query="cheddar",
                shown=("fdc_id", "description", "data_type", "brand_owner"),
            ),
        ),
        # ICD-10-CM and HCPCS are annual (HCPCS also quarterly) releases: the monthly run
        # looks at the configured release URLs and lands a release not landed yet.
        SourceSpec(
            name="icd10cm",
            make_source=icd10cm,  # no arguments: the release URLs in .dlt/config.toml
            cadence="monthly",
            raw_table="order_codes",
            cursor_column="release_year",
            marts=("icd10cm_codes", "icd10cm_code_changes"),
            raw_indexes=icd10cm_raw_indexes,
            samples=SAMPLES_DIR / "icd10cm",
            search=SearchExample(
                mart="icd10cm_codes",
                query="tuberculosis",
                shown=("code", "dotted_code", "long_description", "is_billable"),
            ),
        ),
        SourceSpec(
            name="hcpcs",
            make_source=hcpcs,
            cadence="monthly",
            raw_table="codes",
            cursor_column="release_year",
            marts=("hcpcs_codes",),
            raw_indexes=hcpcs_raw_indexes,
            samples=SAMPLES_DIR / "hcpcs",
            search=SearchExample(
                mart="hcpcs_codes",
                query="wheelchair",
                shown=("hcpcs_code", "short_description", "long_description"),
            ),
        ),
        # Population health and the remaining sources. ACS and PLACES are annual releases:
        # the monthly deployment checks them (an unchanged release lands nothing). No demo
        # samples: their test fixtures are constructed from documentation, not real files.
        SourceSpec(
            name="census",
            make_source=census,
            cadence="monthly",
            raw_table="estimates",
            cursor_column="year",
            marts=("county_health",),
            raw_indexes=census_raw_indexes,
            token=TokenGate(
                "sources.census.api_key",
                required=False,
                sign_up="https://api.census.gov/data/key_signup.html",
            ),
        ),
        SourceSpec(
            name="cdcplaces",
            make_source=cdcplaces,
            cadence="monthly",
            raw_table="measures",
            cursor_column="year",
            marts=("county_health",),
            raw_indexes=cdcplaces_raw_indexes,
            token=TokenGate(
                "sources.cdcplaces.api_key",
                required=False,
                sign_up="https://data.cdc.gov/profile/edit/developer_settings",
            ),
        ),
        SourceSpec(
            name="drugcentral",
            make_source=drugcentral,
            cadence="monthly",
            raw_table="releases",
            cursor_column="released_at",
            marts=(
                "drugcentral_drugs",
                "drugcentral_identifiers",
                "drugcentral_targets",
                "drugcentral_atc_codes",
                "drugcentral_releases",
            ),
            raw_indexes=drugcentral_raw_indexes,
        ),
        SourceSpec(
            name="nccih",
            make_source=nccih,
            cadence="monthly",
            raw_table="herbs",
            cursor_column="last_updated",
            marts=("herbs",),
            raw_indexes=nccih_raw_indexes,
            search=SearchExample(
                mart="herbs", query="sleep", shown=("slug", "herb_name", "last_updated_date")
            ),
        ),
        # RxNav enriches what the drug sources landed: it stays after them in this list
        # (a refresh of every source extracts in this order). No samples: RxNorm's
        # offline release needs a UMLS licence, and RxNav answers only live lookups.
        SourceSpec(
            name="rxnav",
            make_source=rxnav,
            raw_table="name_rxcuis",
            cursor_column="fetched_at",
            marts=(),  # RxNorm ids and RxClass classes of the drug marts (under dailymed)
            raw_indexes=rxnav_raw_indexes,
        ),
    ]
}


def sources_refreshed(cadence: str) -> list[str]:
    """The sources refreshed on `cadence` ("daily", "monthly"), in registry order."""
    return [name for name, spec in SOURCES.items() if spec.cadence == cadence]


def spec_of(name: str) -> SourceSpec:
    if name in LICENSED_ELSEWHERE:
        raise ValueError(f"{name} is not mirrored: {LICENSED_ELSEWHERE[name]}")
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise ValueError(f"unknown source {name!r} (known: {known})") from None
