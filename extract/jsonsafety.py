"""JSON read as a stream (ijson) is refused past a nesting depth no publisher uses.

ijson keeps the path of every open level as a string ("results.item.x.item.item..."), so
its memory grows with the square of the depth: a 40 KB document of 20,000 nested
brackets took it to a gigabyte, 200 KB killed the process. `DepthChecked` wraps the
stream ijson reads and raises `MalformedInput` as soon as the brackets outside strings
go deeper than `MAX_DEPTH`, before ijson sees that chunk.

Each chunk is scanned at C speed (bytes methods and one regular expression): escaped
backslashes and quotes are cut out, then every byte but quotes and brackets, then the
strings (pairs of quotes); a string running on into the next chunk is remembered, as is a
backslash ending a chunk; the depth is summed over the brackets left, outside strings.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import BinaryIO

from extract.errors import MalformedInput

# Publishers' records nest five to ten levels deep; orjson writes at most 254.
MAX_DEPTH = 128

STRING = re.compile(rb'"[^"]*"')  # once escapes are gone and only quotes and brackets kept
NOT_KEPT = bytes(set(range(256)) - set(b'[]{}"'))
STEP = [0] * 256
STEP[ord("[")] = STEP[ord("{")] = 1
STEP[ord("]")] = STEP[ord("}")] = -1


class DepthChecked:
    """A binary stream refusing JSON nested deeper than `max_depth` (`MalformedInput`
    naming the bytes where it went too deep)."""

    def __init__(
        self, stream: BinaryIO, *, source: str, where: str, max_depth: int = MAX_DEPTH
    ) -> None:
        self.stream = stream
        self.source = source
        self.where = where
        self.max_depth = max_depth
        self.depth = 0
        self.in_string = False
        self.escaped = False  # the previous chunk ended on a lone backslash
        self.offset = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        if chunk:
            self._scan(chunk)
            self.offset += len(chunk)
        return chunk

    def _scan(self, chunk: bytes) -> None:
        scanned = chunk[1:] if self.escaped else chunk  # its first byte is escaped
        # Escaped backslashes out (pairs, left to right: what is left of a run escapes the
        # next byte; a lone backslash at the end escapes the next chunk's first byte),
        # then escaped quotes, then every byte but quotes and brackets, then pairs of
        # adjacent quotes (removing two quotes with nothing between leaves every other
        # byte inside or outside a string as it was).
        unescaped = scanned.replace(b"\\\\", b"")
        self.escaped = unescaped.endswith(b"\\")
        kept = unescaped.replace(b'\\"', b"").translate(None, NOT_KEPT).replace(b'""', b"")
        if self.in_string:
            closing = kept.find(b'"')
            if closing < 0:
                return
            kept, self.in_string = kept[closing + 1 :], False
        outside = STRING.sub(b"", kept)
        opened = outside.find(b'"')
        if opened >= 0:  # a string that goes on into the next chunk
            outside, self.in_string = outside[:opened], True
        if not outside:
            return
        depths = list(accumulate(map(STEP.__getitem__, outside), initial=self.depth))
        if max(depths) > self.max_depth:
            raise MalformedInput(
                self.source,
                self.where,
                f"JSON nested more than {self.max_depth} levels deep within bytes "
                f"{self.offset:,} to {self.offset + len(chunk):,}: refused",
            )
        self.depth = depths[-1]
