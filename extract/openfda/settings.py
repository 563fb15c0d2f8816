"""Constants of the openFDA source (each can be overridden in `.dlt/config.toml` under
`[sources.openfda]` or by `SOURCES__OPENFDA__<NAME>`)."""

from datetime import date

SOURCE = "openfda"
LABEL_URL = "https://api.fda.gov/drug/label.json"
NDC_URL = "https://api.fda.gov/drug/ndc.json"
# openFDA's download manifest: results.drug.<dataset>.partitions[].file are zipped JSON
# documents `{meta, results: [...]}`, the same records the API serves.
MANIFEST_URL = "https://api.fda.gov/download.json"
PAGE_SIZE = 1000  # `limit`: the API's maximum
# The oldest SPL effective times in openFDA are from the 1990s; empty windows cost one
# request each (404 NOT_FOUND).
LABEL_START_DATE = date(1990, 1, 1)
LABEL_WINDOW_DAYS = 90  # a sweep counts, and reads when changed, one window at a time
# listing_expiration_date is the end of a listing's certification year (Dec 31), so the
# directory spans a few years at most; older windows are nearly empty.
NDC_START_DATE = date(2000, 1, 1)
NDC_WINDOW_DAYS = 365
# The upper bound of the last (open) window: openFDA ranges take YYYYMMDD dates, and
# listing expiration dates lie in the future.
OPEN_END = "99991231"
DATE_FORMAT = "%Y%m%d"  # effective_time, listing dates: "20140423"
# Bulk: which datasets of the manifest to land, and rows per Arrow batch.
BULK_DATASETS = ("label", "ndc")
