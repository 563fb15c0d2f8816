"""Constants of the HCPCS Level II source (each can be overridden in `.dlt/config.toml`
under `[sources.hcpcs]` or by `SOURCES__HCPCS__<NAME>`)."""

import re

SOURCE = "hcpcs"
# CMS's HCPCS quarterly update page: it links each quarter's Alpha-Numeric HCPCS file (a
# zip holding the fixed-width `HCPCyyyy_..._ANWEB*.txt` and its record layout). The newest
# release it links is found there (`releases_page_url`) and landed when not landed yet.
RELEASES_PAGE_URL = (
    "https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system/"
    "quarterly-update"
)
# The release zips as CMS names them: `january-2025-alpha-numeric-hcpcs-file.zip` (a
# quarter), `2019-alpha-numeric-hcpcs-file.zip` and `2015-Annual-Alpha-Numeric-HCPCS-File.zip`
# (a year's January release).
RELEASE_ZIP = re.compile(
    r"^(?:(?P<month>january|april|july|october)-)?(?P<year>20\d\d)-(?:annual-)?"
    r"alpha-numeric-hcpcs(?:-file)?\b.*\.zip$",
    re.IGNORECASE,
)
# Fixed release zips instead (a machine without internet, or a mirror of CMS's files):
# when `release_urls` lists any, the page is not read.
RELEASE_URLS: tuple[str, ...] = ()
# Its text is Latin-1 (Windows-1252: CMS's disclaimer lines use its non-breaking spaces).
ENCODING = "cp1252"
