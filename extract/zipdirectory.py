"""Reading a zip's members without holding its directory in memory.

Python's `zipfile.ZipFile` parses the whole central directory when it opens an archive
and keeps one `ZipInfo` per member (about a kilobyte each): half a gigabyte for a release
of half a million documents. Here the directory is read one record at a time, and the
members are opened through a `ZipFile` that skips its own parse (`ZipFile.open` accepts a
`ZipInfo`), so memory stays flat whatever the number of members.

The record layout is the ZIP format's (APPNOTE 4.3.12); zipfile's own constants and its
zip64 decoding of the extra field are used to read it.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

READ_CHUNK = 1 << 20


class ZipWithoutDirectory(zipfile.ZipFile):
    """A zip opened for reading whose members come from `entries()`, not from memory."""

    def _RealGetContents(self) -> None:  # noqa: N802 - zipfile's hook for the directory
        self.start_dir = 0


def _directory_span(path: Path) -> tuple[int, int, int]:
    """Where the central directory starts, its size, and how far every offset recorded
    in the zip is shifted (by bytes before the archive); `BadZipFile` when there is none."""
    with open(path, "rb") as zipped:
        try:
            end = zipfile._EndRecData(zipped)  # noqa: SLF001 - the stdlib's own parser
        except OSError:
            end = None
    if not end:
        raise zipfile.BadZipFile("File is not a zip file")
    size = end[zipfile._ECD_SIZE]  # noqa: SLF001
    offset = end[zipfile._ECD_OFFSET]  # noqa: SLF001
    # Bytes before the archive (a self-extracting stub) shift every offset.
    shift = end[zipfile._ECD_LOCATION] - size - offset  # noqa: SLF001
    if end[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # noqa: SLF001
        shift -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator
    return offset + shift, size, shift


def directory_chunks(path: Path) -> Iterator[bytes]:
    """The raw bytes of the central directory (names, sizes and CRCs of every member)."""
    start, size, _shift = _directory_span(path)
    with open(path, "rb") as zipped:
        zipped.seek(start)
        while size > 0:
            chunk = zipped.read(min(size, READ_CHUNK))
            if not chunk:
                raise zipfile.BadZipFile("the central directory is cut short")
            size -= len(chunk)
            yield chunk


def entries(path: Path) -> Iterator[zipfile.ZipInfo]:
    """One `ZipInfo` per member, in the directory's order, read record by record."""
    start, size, shift = _directory_span(path)
    with open(path, "rb") as zipped:
        zipped.seek(start)
        remaining = size
        while remaining > 0:
            header = zipped.read(zipfile.sizeCentralDir)
            if len(header) != zipfile.sizeCentralDir:
                raise zipfile.BadZipFile("the central directory is cut short")
            record = struct.unpack(zipfile.structCentralDir, header)
            if record[zipfile._CD_SIGNATURE] != zipfile.stringCentralDir:  # noqa: SLF001
                raise zipfile.BadZipFile("bad magic number in the central directory")
            raw_name = zipped.read(record[zipfile._CD_FILENAME_LENGTH])  # noqa: SLF001
            extra = zipped.read(record[zipfile._CD_EXTRA_FIELD_LENGTH])  # noqa: SLF001
            comment = zipped.read(record[zipfile._CD_COMMENT_LENGTH])  # noqa: SLF001
            flags = record[zipfile._CD_FLAG_BITS]  # noqa: SLF001
            name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
            info = zipfile.ZipInfo(name)
            info.extra = extra
            info.comment = comment
            (
                info.create_version,
                info.create_system,
                info.extract_version,
                info.reserved,
                info.flag_bits,
                info.compress_type,
                dos_time,
                dos_date,
                info.CRC,
                info.compress_size,
                info.file_size,
            ) = record[1:12]
            info.volume, info.internal_attr, info.external_attr = record[15:18]
            # The member's MS-DOS modification time, decoded as zipfile itself does.
            info.date_time = (
                (dos_date >> 9) + 1980,
                (dos_date >> 5) & 0xF,
                dos_date & 0x1F,
                dos_time >> 11,
                (dos_time >> 5) & 0x3F,
                (dos_time & 0x1F) * 2,
            )
            info.header_offset = record[zipfile._CD_LOCAL_HEADER_OFFSET]  # noqa: SLF001
            info._decodeExtra()  # noqa: SLF001 - zip64 sizes and offsets
            info.header_offset += shift
            remaining -= zipfile.sizeCentralDir + len(raw_name) + len(extra) + len(comment)
            yield info
