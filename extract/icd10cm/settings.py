"""Constants of the ICD-10-CM source (each can be overridden in `.dlt/config.toml` under
`[sources.icd10cm]` or by `SOURCES__ICD10CM__<NAME>`)."""

SOURCE = "icd10cm"
# CMS's ICD-10-CM files of one fiscal year, as linked from
# https://www.cms.gov/medicare/coding-billing/icd-10-codes: "Code Descriptions in
# Tabular Order" (a zip holding the order file `icd10cm_order_YYYY.txt`) and "Code
# Tables, Tabular and Index" (a zip holding `icd10cm_tabular_YYYY.xml`). Each fiscal year
# has its own URLs: add the new year's to `release_urls` when CMS publishes it.
RELEASE_URLS = (
    "https://www.cms.gov/files/zip/2025-code-descriptions-tabular-order.zip",
    "https://www.cms.gov/files/zip/2025-code-tables-tabular-and-index.zip",
)
# The order file's fixed-width layout (CMS, "ICD-10-CM/PCS Order File" description),
# 0-based [start, end) character positions.
ORDER_NUMBER = (0, 5)
ORDER_CODE = (6, 13)
ORDER_BILLABLE = (14, 15)
ORDER_SHORT = (16, 76)
ORDER_LONG_FROM = 77
# Codes are padded with this placeholder to six characters before a 7th character.
PLACEHOLDER = "X"
