"""Constants of the RxNav source (each scalar can be overridden in `.dlt/config.toml` under
`[sources.rxnav]` or by `SOURCES__RXNAV__<NAME>`)."""

from __future__ import annotations

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


# What RxNav is asked about: one dbt view listing every NDC and drug name the drug sources
# landed (`lookup_kind` ndc or name, `lookup_value`), built for this extract
# (dbt_project/models/intermediate/drugs/int_rxnav_lookups.sql). A new drug source adds
# its columns there. It lives in the `staging` schema, which the loader role may read.
LOOKUPS_RELATION = ("staging", "int_rxnav_lookups")
