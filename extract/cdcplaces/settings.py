"""Constants of the CDC PLACES source (each can be overridden in `.dlt/config.toml` under
`[sources.cdcplaces]` or by `SOURCES__CDCPLACES__<NAME>`)."""

SOURCE = "cdcplaces"
# data.cdc.gov's Socrata SODA API: /resource/<dataset id>.json
BASE_URL = "https://data.cdc.gov"
# "PLACES: Local Data for Better Health" in long format (one row per location, measure
# and value type): county data and census tract data, one Socrata dataset per geography
# and annual release. The newest release of each geography is found in data.cdc.gov's
# catalog (Socrata's Discovery API: `extract.cdcplaces.catalog`) at every run; a
# configured `datasets` (geography -> dataset id, e.g. {"county": "swc5-untb", "tract":
# "cwsq-ngmh"}, the current releases' ids in 2025) is used instead, with no catalog read.
GEOGRAPHIES = ("county", "tract")
CATALOG_URL = "https://api.us.socrata.com/api/catalog/v1"
CATALOG_DOMAIN = "data.cdc.gov"
CATALOG_QUERY = "PLACES: Local Data for Better Health"
# Socrata answers at most 50,000 rows per request on the 2.1 endpoints.
PAGE_SIZE = 50_000
PAGES_PER_WINDOW = 10  # a window (one commit) is this many pages
# A SoQL condition added to every query (`stateabbr = 'VT'`), empty for all rows.
WHERE = ""
# The data year (BRFSS year) a first load starts from.
START_YEAR = 2017
# The fields of a row that make its key (a row without them is rejected).
KEY_FIELDS = ("year", "locationid", "measureid", "datavaluetypeid")
TOKEN_SIGNUP = "https://data.cdc.gov/profile/edit/developer_settings"
# A bulk CSV export lands this many rows a window (one commit); a killed run resumes at
# the next row.
ROWS_PER_WINDOW = 500_000
