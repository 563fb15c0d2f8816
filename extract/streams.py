"""A document read item by item (a PubMed article, a MedlinePlus topic) whose parser builds
each item whole: an item spanning more bytes than any real one is refused before the
parser has built it, so memory stays bounded whatever a file holds (lxml keeps about 30
times an item's bytes while it builds it: a few MB of `<a/>` would be gigabytes)."""

from __future__ import annotations

from typing import BinaryIO

from extract.errors import MalformedInput

# The largest real items (PubMed articles with thousands of authors) are a few MB.
MAX_ITEM_BYTES = 16 << 20


class ItemStream:
    """A binary stream that counts the bytes read through it (to say where a broken file
    broke) and refuses to go on when more than `item_limit` bytes have been read since
    the last `item_done()`."""

    def __init__(
        self, stream: BinaryIO, *, source: str, where: str, item_limit: int = MAX_ITEM_BYTES
    ) -> None:
        self.stream = stream
        self.source = source
        self.where = where
        self.item_limit = item_limit
        self.bytes_read = 0
        self.item_start = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.bytes_read += len(chunk)
        if self.bytes_read - self.item_start > self.item_limit:
            raise MalformedInput(
                self.source,
                self.where,
                f"one item runs past {self.item_limit:,} bytes of XML (from byte "
                f"{self.item_start:,}): larger than any real one, refused",
            )
        return chunk

    def item_done(self) -> None:
        """The caller has what it needs of the current item: count the next from here."""
        self.item_start = self.bytes_read
