"""Constants of the HCPCS Level II source (each can be overridden in `.dlt/config.toml`
under `[sources.hcpcs]` or by `SOURCES__HCPCS__<NAME>`)."""

SOURCE = "hcpcs"
# CMS's Alpha-Numeric HCPCS file (a zip holding the fixed-width `HCPCyyyy_..._ANWEB*.txt`
# and its record layout), as linked from
# https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system/quarterly-update
# Each release has its own URL: add the new one to `release_urls` when CMS publishes it.
RELEASE_URLS = ("https://www.cms.gov/files/zip/january-2025-alpha-numeric-hcpcs-file.zip",)
# Its text is Latin-1 (Windows-1252: CMS's disclaimer lines use its non-breaking spaces).
ENCODING = "cp1252"
