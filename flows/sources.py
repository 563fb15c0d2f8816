"""The sources medmirror knows, and what each one lands and feeds.

Adding a source to `SOURCES` makes it part of `medmirror refresh`, `medmirror demo` (when
it bundles samples), `medmirror status` and the Prefect deployments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dlt.extract.source import DltSource

from extract.clinicaltrials import RAW_INDEXES as clinicaltrials_raw_indexes
from extract.clinicaltrials import clinicaltrials
from extract.dailymed import RAW_INDEXES as dailymed_raw_indexes
from extract.dailymed import dailymed
from extract.faers import RAW_INDEXES as faers_raw_indexes
from extract.faers import faers
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
            marts=("drugs", "drug_formulations", "drug_labels", "drug_classes"),
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
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise ValueError(f"unknown source {name!r} (known: {known})") from None
