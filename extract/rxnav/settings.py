"""Constants of the RxNav source (each scalar can be overridden in `.dlt/config.toml` under
`[sources.rxnav]` or by `SOURCES__RXNAV__<NAME>`)."""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "rxnav"
API_URL = "https://rxnav.nlm.nih.gov/REST"
# An answer older than this is asked again (RxNorm is released monthly, weekly updates).
REFRESH_DAYS = 30
# Lookups (HTTP requests) per committed window: a crash loses at most this many.
LOOKUPS_PER_WINDOW = 500
# A name that neither an exact nor a normalised search finds is searched approximately
# (`search=9`); its answer lands beside the first one, marked by its `search` value.
APPROXIMATE_MATCH = True
# RxClass relationship sources asked for each RxNorm id: DAILYMED gives the FDA SPL
# indexing classes (EPC, MoA, PE, chemical structure), ATC the WHO ATC classes (ATC1-4).
CLASS_RELA_SOURCES = ("DAILYMED", "ATC")
# RxNav sometimes answers "too many requests" with HTTP 200 and that text as the body.
THROTTLED_TEXT = b"too many requests"


@dataclass(frozen=True)
class Candidates:
    """One column of a drug table whose values RxNav is asked about.

    `kind` is `ndc` (an NDC, looked up with `idtype=NDC`) or `name` (a drug or ingredient
    name, looked up by string). `json_field` reads a field of a jsonb `column` (raw tables);
    `separator` splits a value holding several names ("ACETAMINOPHEN; CODEINE PHOSPHATE");
    `is_array` reads each element of an array column.
    A relation or column that does not exist (a source not landed or built yet) or that the
    extract's role cannot read is skipped with a warning.
    """

    relation: str  # schema.table or schema.view
    kind: str  # "ndc" or "name"
    column: str
    json_field: str | None = None
    separator: str | None = None
    is_array: bool = False


# Where RxNav's lookups come from: one line per drug table column. A new drug source adds
# its line here. The DailyMed and openFDA staging columns are the ones their issue
# documents (staging views are read through the role that runs the extract).
CANDIDATES: tuple[Candidates, ...] = (
    Candidates("raw_orangebook.products", "name", "record", json_field="ingredient", separator=";"),
    # RxNav maps package NDCs (10 or 11 digits), not two-part product NDCs.
    Candidates("staging.stg_dailymed__products", "ndc", "ndc_package_codes", is_array=True),
    Candidates("staging.stg_dailymed__products", "name", "generic_name"),
    Candidates("staging.stg_openfda__ndc_packages", "ndc", "package_ndc"),
    Candidates("staging.stg_openfda__ndc_products", "name", "generic_name"),
    Candidates("staging.stg_openfda__ndc_products", "name", "brand_name"),
)
