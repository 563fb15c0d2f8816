"""Constants of the DailyMed source (each can be overridden in `.dlt/config.toml` under
`[sources.dailymed]` or by `SOURCES__DAILYMED__<NAME>`)."""

SOURCE = "dailymed"
# DailyMed web services v2 (the base of /spls.json, /spls/{setid}.xml, /drugclasses.json).
API_URL = "https://dailymed.nlm.nih.gov/dailymed/services/v2"
PAGE_SIZE = 100  # DailyMed's maximum page size for its list resources
# A first API run with no earlier landing (API or bulk) asks for the labels published in
# the last INITIAL_DAYS days: the whole collection comes from the release archives.
INITIAL_DAYS = 7
OVERLAP_DAYS = 1  # re-ask the last published day: labels published later that day are not missed
FETCH_HISTORY = True  # ask each listed label's version history (one more request per label)
# A bulk load is committed archive by archive; a release archive holding more labels than
# this (DailyMed's full releases hold tens of thousands) is committed in windows of this many.
BULK_LABELS_PER_WINDOW = 2_000
