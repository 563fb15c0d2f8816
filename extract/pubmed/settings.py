"""Constants of the PubMed source (each can be overridden in `.dlt/config.toml` under
`[sources.pubmed]` or by `SOURCES__PUBMED__<NAME>`)."""

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
