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
# Tombstones (README "Withdrawals"): every FULL_LIST_DAYS days (0: never) the API run reads
# DailyMed's whole SPL list (`/spls.json` unfiltered, every page to the last), committed
# every LIST_PAGES_PER_WINDOW pages; a set id raw holds that the whole list no longer
# names lands a deletion notice.
FULL_LIST_DAYS = 7
LIST_PAGES_PER_WINDOW = 50
# A bulk location is a whole release set (every part of DailyMed's full release, e.g.
# dm_spl_release_human_rx_part1..5.zip with the OTC, homeopathic, animal and remainder
# parts) only when declared so (`bulk_full_release = true` under [sources.dailymed], or
# SOURCES__DAILYMED__BULK_FULL_RELEASE): DailyMed's archives do not say how many parts a
# release has, so medmirror cannot know it. Only a declared full set lands tombstones.
BULK_FULL_RELEASE = False
