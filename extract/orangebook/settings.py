"""Constants of the FDA Orange Book source (each can be overridden in `.dlt/config.toml`
under `[sources.orangebook]` or by `SOURCES__ORANGEBOOK__<NAME>`)."""

SOURCE = "orangebook"
# FDA's "Orange Book Data Files (compressed)": always the current monthly release, a zip
# of products.txt, patent.txt and exclusivity.txt. The URL names no file, so the copy is
# saved under DOWNLOAD_NAME (bulk files are recognised as zips by their name).
RELEASE_URL = "https://www.fda.gov/media/76860/download"
DOWNLOAD_NAME = "orange_book.zip"
RELEASE_SUFFIXES = (".txt",)
DELIMITER = "~"
# pyarrow parses the text files in blocks of this many bytes (row numbers stay global).
READ_BLOCK_BYTES = 1 << 20
# How products.txt writes a product approved before the Orange Book's electronic records.
APPROVED_BEFORE_1982 = "Approved Prior to Jan 1, 1982"
DATE_FORMAT = "%b %d, %Y"  # "Oct 18, 2019"
