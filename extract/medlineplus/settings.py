"""Constants of the MedlinePlus health topics source (each can be overridden in
`.dlt/config.toml` under `[sources.medlineplus]` or by `SOURCES__MEDLINEPLUS__<NAME>`)."""

SOURCE = "medlineplus"
# NLM's "MedlinePlus XML Files" page: it links the current health topics file
# (`mplus_topics_YYYY-MM-DD.xml` and the same zipped, `mplus_topics_compressed_...zip`),
# regenerated every weekday. A direct URL of either file is accepted too.
XML_PAGE_URL = "https://medlineplus.gov/xml.html"
# How a health topics file is named: its date is the cursor.
FILE_NAME = r"mplus_topics_(?:compressed_)?(\d{4}-\d{2}-\d{2})\.(?:xml|zip)"
