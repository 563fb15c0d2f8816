"""Constants of the PubMed source (each can be overridden in `.dlt/config.toml` under
`[sources.pubmed]` or by `SOURCES__PUBMED__<NAME>`)."""

import re

SOURCE = "pubmed"
EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
# Every citation in PubMed (the "all" subset): the live API follows all of it by default.
SEARCH_TERM = "all[sb]"
# NCBI asks every E-utilities client to name itself (`tool`) and give a contact (`email`,
# set `eutils_email` in `.dlt/config.toml`).
EUTILS_TOOL = "medmirror"
# A first API run with no earlier landing (API or bulk) asks for the changes of the last
# INITIAL_DAYS days: the whole of PubMed comes from the baseline files, not from efetch.
INITIAL_DAYS = 7
# The date an API window searches on (esearch `datetype`): modification (new and revised
# citations: what a mirror needs) or Entrez date (when a citation entered PubMed).
DATE_TYPES = {"mdat": "modified", "edat": "entered"}
DATE_TYPE = "mdat"
OVERLAP_DAYS = 1  # re-ask the last day searched: records changed later that day are not missed
WINDOW_DAYS = 1  # an API pull is committed one modification-date window at a time
BATCH_SIZE = 1000  # records per efetch request (E-utilities allow up to 10,000)
# A bulk load is committed file by file; a file holding more articles than this (NLM's
# baseline files hold 30,000) is committed in windows of this many.
BULK_ARTICLES_PER_WINDOW = 50_000
# The daily refresh (no `--bulk`): `updatefiles` lands NLM's daily update files listed on
# UPDATES_PAGE_URL that are newer than the newest file landed (new, revised and deleted
# citations: deletions are published only there); `eutils` follows the E-utilities API
# instead (citations modified since the last run; no deletions).
DAILY_SOURCES = {
    "updatefiles": "NLM's daily update files",
    "eutils": "the E-utilities API",
}
DAILY_SOURCE = "updatefiles"
# NLM's listing of the year's daily update files: each `pubmedYYnNNNN.xml.gz` with its
# `.xml.gz.md5` checksum and a `_stats.html` page (only the `.xml.gz` files are read).
UPDATES_PAGE_URL = "https://ftp.ncbi.nlm.nih.gov/pubmed/updatefiles/"
UPDATE_FILE = re.compile(r"^pubmed(?P<year>\d\d)n(?P<number>\d{4})\.xml\.gz$")
# The numbered name of a release file the bulk ledger holds (baseline, update or sample:
# `pubmed26n1334_baseline_sample.xml`), by which the listing's newer files are found.
NUMBERED_FILE = re.compile(r"^(?:pubmed|medline)(?P<year>\d\d)n(?P<number>\d{4})")
