"""How far a bulk file may decompress: the limits, and the streams that keep to them.

A member or `.gz` file past `max_member_bytes` decompressed, or inflating more than
`max_inflate_ratio` times its compressed size (a decompression bomb), the members of one
archive past `max_file_bytes` together, and a document read whole past
`max_document_bytes` are refused with their name and size: `TooLarge`, an `OSError` as a
broken archive's errors are, so each source rejects the member and lands the rest. The
limits are `[bulk]` in `.dlt/config.toml` (or `BULK__<NAME>`), with generous defaults.
"""

from __future__ import annotations

import gzip
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, BinaryIO

import dlt

from extract.errors import MalformedInput

# Below this many decompressed bytes a stream is never judged by its inflation ratio.
RATIO_GRACE_BYTES = 4 << 20


@dataclass(frozen=True)
class Limits:
    """How far decompression may go (`[bulk]` in `.dlt/config.toml`, `BULK__<NAME>`)."""

    max_member_bytes: int = 64 << 30  # one member or .gz file, decompressed
    max_file_bytes: int = 256 << 30  # all members of one archive, or one download
    max_document_bytes: int = 128 << 20  # a document read whole into memory
    max_inflate_ratio: int = 100  # decompressed / compressed (real releases: under 15)


def limits() -> Limits:
    """The configured limits (read once per set of `BULK__*` variables: dlt's lookup is
    too slow to repeat for each of half a million members)."""
    return _limits(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("BULK__"))))


@cache
def _limits(_environment: tuple[tuple[str, str], ...]) -> Limits:
    defaults = Limits()
    return Limits(
        **{
            name: int(dlt.config.get(f"bulk.{name}") or getattr(defaults, name))
            for name in Limits.__dataclass_fields__
        }
    )


class TooLarge(OSError):
    """A member, file or document past a decompression limit (`Limits`)."""


def size_text(value: int) -> str:
    return f"{value:,} bytes"


class Inflated:
    """The decompressed stream of a `.gz` (a `GzipFile`, read through as it is, so a
    stream cut short loses no more than it did), refusing to go past the limits: its
    `max_member_bytes`, and `max_inflate_ratio` times the compressed bytes consumed."""

    CHUNK = 1 << 16

    def __init__(self, inflating: gzip.GzipFile, compressed: BinaryIO, *, name: str) -> None:
        self.inflating = inflating
        self.compressed = compressed  # the raw stream, to ask how much was consumed
        self.name = name
        self.limits = limits()
        self.produced = 0

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:  # all of it: in checked chunks, never in one go
            return b"".join(iter(lambda: self.read(self.CHUNK), b""))
        return self._counted(self.inflating.read(size))

    def read1(self, size: int = -1) -> bytes:
        return self._counted(self.inflating.read1(self.CHUNK if size < 0 else size))

    def readline(self, size: int | None = -1) -> bytes:
        limit = self.limits.max_document_bytes if size is None or size < 0 else size
        return self._counted(self.inflating.readline(limit))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.produced

    @property
    def closed(self) -> bool:
        return self.inflating.closed

    def close(self) -> None:
        self.inflating.close()

    def _counted(self, data: bytes) -> bytes:
        self.produced += len(data)
        if self.produced > self.limits.max_member_bytes:
            raise TooLarge(
                f"{self.name} decompresses to more than {size_text(self.limits.max_member_bytes)} "
                "(bulk.max_member_bytes): refused"
            )
        if self.produced > RATIO_GRACE_BYTES:
            consumed = max(self.compressed.tell(), 1)
            if self.produced > consumed * self.limits.max_inflate_ratio:
                raise TooLarge(
                    f"{self.name} inflated {size_text(consumed)} to over "
                    f"{size_text(self.produced)}, "
                    f"more than {self.limits.max_inflate_ratio} times "
                    "(bulk.max_inflate_ratio): a decompression bomb, refused"
                )
        return data


def check_zip_member(
    info: zipfile.ZipInfo, archive: zipfile.ZipFile, *, whole: bool = False
) -> None:
    """Refuse (`TooLarge`) a zip member whose declared size is past the limits (zipfile
    never reads a member past the size its directory declares), or past
    `max_document_bytes` when it is to be read `whole`, and an archive whose members
    opened so far add up to more than `max_file_bytes`."""
    bounds = limits()
    name = info.filename
    if whole and info.file_size > bounds.max_document_bytes:
        raise TooLarge(
            f"{name} is {size_text(info.file_size)} decompressed, more than "
            f"{size_text(bounds.max_document_bytes)} (bulk.max_document_bytes) read whole: refused"
        )
    if info.file_size > bounds.max_member_bytes:
        raise TooLarge(
            f"{name} is {size_text(info.file_size)} decompressed, more than "
            f"{size_text(bounds.max_member_bytes)} (bulk.max_member_bytes): refused"
        )
    if (
        info.file_size > RATIO_GRACE_BYTES
        and info.file_size > max(info.compress_size, 1) * bounds.max_inflate_ratio
    ):
        raise TooLarge(
            f"{name} is {size_text(info.compress_size)} compressed and {size_text(info.file_size)} "
            f"decompressed, more than {bounds.max_inflate_ratio} times (bulk.max_inflate_ratio): "
            "a decompression bomb, refused"
        )
    # Members are opened in the archive's order, some twice: count each one once.
    last, total = getattr(archive, "_medmirror_inflated", (-1, 0))
    if info.header_offset > last:
        last, total = info.header_offset, total + info.file_size
        archive._medmirror_inflated = (last, total)  # noqa: SLF001 - a count kept with it
    if total > bounds.max_file_bytes:
        raise TooLarge(
            f"{name}: the members of {archive.filename or 'its archive'} read so far decompress to "
            f"{size_text(total)}, more than {size_text(bounds.max_file_bytes)} "
            "(bulk.max_file_bytes): refused"
        )


def read_whole(stream: BinaryIO, *, source: str, uri: str, limit: int | None = None) -> bytes:
    """All of `stream`, refused (`DocumentTooLarge`) past `limit` bytes (by default
    `max_document_bytes`) without reading further."""
    limit = limit or limits().max_document_bytes
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise DocumentTooLarge(
            source,
            uri,
            f"larger than {size_text(limit)}, the most read whole into memory "
            "(bulk.max_document_bytes): refused",
        )
    return content


class DocumentTooLarge(MalformedInput):
    """A document too large to be read whole (a caller may stream it instead)."""
