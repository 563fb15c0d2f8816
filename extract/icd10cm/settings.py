"""Constants of the ICD-10-CM source (each can be overridden in `.dlt/config.toml` under
`[sources.icd10cm]` or by `SOURCES__ICD10CM__<NAME>`)."""

import re

SOURCE = "icd10cm"
# CMS's ICD-10-CM page: it links the current fiscal year's zips, "Code Descriptions in
# Tabular Order" (holds the order file `icd10cm_order_YYYY.txt`) and "Code Tables,
# Tabular and Index" (holds `icd10cm_tabular_YYYY.xml`). The newest release it links is
# found there (`releases_page_url`) and landed when it is not landed yet.
RELEASES_PAGE_URL = "https://www.cms.gov/medicare/coding-billing/icd-10-codes"
# The release zips as CMS names them: `2025-code-descriptions-tabular-order.zip`,
# `2025-code-tables-tabular-and-index.zip`, with an update's suffix
# (`2024-code-descriptions-tabular-order-updated-01-11-2024.zip`) or the code set named
# (`2026-icd-10-cm-code-descriptions-tabular-order-updated-02-01-2026.zip`).
RELEASE_ZIP = re.compile(
    r"^(?P<release>20\d\d)-(?:icd-?10-?cm-)?code-"
    r"(?P<kind>descriptions-(?:in-)?tabular-order|tables-tabular-and-index)\b.*\.zip$",
    re.IGNORECASE,
)
# Fixed release zips instead (a machine without internet, or a mirror of CMS's files):
# when `release_urls` lists any, the page is not read.
RELEASE_URLS: tuple[str, ...] = ()
# The order file's fixed-width layout (CMS, "ICD-10-CM/PCS Order File" description),
# 0-based [start, end) character positions.
ORDER_NUMBER = (0, 5)
ORDER_CODE = (6, 13)
ORDER_BILLABLE = (14, 15)
ORDER_SHORT = (16, 76)
ORDER_LONG_FROM = 77
# Codes are padded with this placeholder to six characters before a 7th character.
PLACEHOLDER = "X"
