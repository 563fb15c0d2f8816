"""Constants of the FAERS source (each can be overridden in `.dlt/config.toml` under
`[sources.faers]` or by `SOURCES__FAERS__<NAME>`)."""

import re

SOURCE = "faers"
# openFDA's adverse event endpoint: FAERS reports as JSON (one `results[]` item a report).
API_URL = "https://api.fda.gov/drug/event.json"
PAGE_SIZE = 1000  # openFDA's largest `limit`
# A first API run with no earlier landing asks for reports received in the INITIAL_DAYS
# days before openFDA's newest receipt date: the history comes from the quarterly files.
INITIAL_DAYS = 120
WINDOW_DAYS = 7  # an API pull is committed one receive-date window at a time
OVERLAP_DAYS = 1  # a new publication is asked from the last one's cutoff less this
# FDA's quarterly ASCII files, linked from its FAERS Quarterly Data Extract Files page:
# faers_ascii_2017q2.zip (FAERS, from 2012Q4), aers_ascii_2004q1.zip (legacy AERS). The
# XML twins (faers_xml_2017q2.zip) are not read.
QUARTERS_PAGE_URL = "https://fis.fda.gov/extensions/FPD-QDE-FAERS/FPD-QDE-FAERS.html"
QUARTER_ZIP = re.compile(r"^f?aers_ascii_(?P<year>(?:19|20)\d\d)q(?P<q>[1-4])\.zip$", re.IGNORECASE)
DELIMITER = "$"
# pyarrow parses a file in blocks of this many bytes (row numbers stay global).
READ_BLOCK_BYTES = 1 << 22
