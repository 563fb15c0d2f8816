"""Constants of the ClinicalTrials.gov source (each can be overridden in `.dlt/config.toml`
under `[sources.clinicaltrials]` or by `SOURCES__CLINICALTRIALS__<NAME>`)."""

from datetime import date

SOURCE = "clinicaltrials"
API_URL = "https://clinicaltrials.gov/api/v2/studies"
PAGE_SIZE = 1000  # the API's maximum
# The oldest LastUpdatePostDate on ClinicalTrials.gov is in 1999.
START_DATE = date(1999, 1, 1)
OVERLAP_DAYS = 1  # re-ask the last day: studies posted later that day are not missed
WINDOW_DAYS = 365  # an API pull is committed one update-date window at a time
BULK_STUDIES_PER_WINDOW = 20_000  # a bulk load is committed every this many studies
RECHECK_DAYS = 7  # every stored study is re-checked for withdrawal within this many days
RESYNC_BATCH: int | None = None  # at most this many ids re-checked a run (None: no cap, 0: off)
RESYNC_IDS_PER_REQUEST = 100  # ids per `filter.ids` request (keeps the URL short)
# A re-sync chunk where most ids are missing is the API failing, not mass deletion.
RESYNC_MAX_MISSING_SHARE = 0.5
# A bulk document up to this size is read whole (a single study is a few hundred KB at
# most); a larger one must be a page of studies (`{"studies": [...]}`), streamed.
WHOLE_DOCUMENT_BYTES = 16 << 20
