"""The project's one zip reader: a zip's members without holding its directory in
memory, why an archive has no usable directory, and the members of one that has none
(a download cut short), read from their local headers.

Python's `zipfile.ZipFile` parses the whole central directory when it opens an archive
and keeps one `ZipInfo` per member (about a kilobyte each): half a gigabyte for a release
of half a million documents. Here the directory is read one record at a time, and the
members are opened through a `ZipFile` that skips its own parse (`ZipFile.open` accepts a
`ZipInfo`), so memory stays flat whatever the number of members.

The record layout is the ZIP format's (APPNOTE 4.3.12); zipfile's own constants and its
zip64 decoding of the extra field are used to read it. Sources turn what is read here
into their own records and rejects (`extract.bulk` for every bulk source; DailyMed's
zips of per-label zips in `extract.dailymed.release`).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from extract.limits import RATIO_GRACE_BYTES, limits

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


def directory_problem(path: Path) -> str | None:
    """Why the zip at `path` has no usable directory of its own, or None.

    A zip of zips cut short can end inside a stored inner zip, whose own directory then
    looks like the archive's: a directory is the archive's only when it ends the file and
    its offsets start at the file's first byte.
    """
    try:
        with open(path, "rb") as zipped:
            end = zipfile._EndRecData(zipped)  # noqa: SLF001 - the stdlib's own parser
            size = zipped.seek(0, 2)
    except OSError as broken:
        return f"not a readable zip ({broken})"
    if not end:
        return "not a readable zip (no central directory: the archive is cut short)"
    location = end[zipfile._ECD_LOCATION]  # noqa: SLF001
    shift = location - end[zipfile._ECD_SIZE] - end[zipfile._ECD_OFFSET]  # noqa: SLF001
    if end[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # noqa: SLF001
        shift -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator
    ends_file = location + zipfile.sizeEndCentDir + len(end[zipfile._ECD_COMMENT]) == size  # noqa: SLF001
    if shift or not ends_file:
        return (
            "not a readable zip (its last directory belongs to a member: the archive is cut short)"
        )
    return None


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


# -- an archive without its directory -------------------------------------------------------
# A zip whose central directory is missing (a download cut short) is read member by member
# from its local headers (APPNOTE 4.3.7), as far as it goes. zipfile cannot do this: it
# needs the directory at the end of the archive.

LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
LOCAL_SIGNATURE = b"PK\x03\x04"
DESCRIPTOR_SIGNATURE = b"PK\x07\x08"
DIRECTORY_SIGNATURES = (b"PK\x01\x02", b"PK\x05\x06")
CHUNK = 1 << 16


@dataclass(frozen=True)
class LocalMember:
    """A member found by its local header: its bytes when kept (None: read through and
    dropped), and whether they match the CRC the archive gives."""

    name: str
    body: bytes | None
    crc_matches: bool


@dataclass(frozen=True)
class WalkEnd:
    """Why the walk stopped (always the last item): inside `member` when named;
    `complete` when it reached the directory after `members` members."""

    reason: str
    members: int
    member: str | None = None
    complete: bool = False


def walk_local_headers(
    stream: BinaryIO, *, keep: Callable[[str], bool]
) -> Iterator[LocalMember | WalkEnd]:
    """Every member of the zip in `stream` by its local headers, the bytes of those whose
    name `keep` accepts read whole (within the decompression limits), then a `WalkEnd`."""
    reader = _PushbackReader(stream)
    members = 0
    while True:
        start = reader.offset
        header = reader.read(LOCAL_HEADER.size)
        if header[:4] != LOCAL_SIGNATURE:
            if header[:2] != b"PK" and header:
                yield WalkEnd(f"no zip member at byte {start:,}", members)
            elif not header or header[:4] in DIRECTORY_SIGNATURES:
                yield WalkEnd(f"its {members} members were read", members, complete=True)
            else:
                yield WalkEnd(f"an unknown zip record at byte {start:,}", members)
            return
        if len(header) < LOCAL_HEADER.size:
            yield WalkEnd("the archive ends inside a member header", members)
            return
        _, _, flags, method, _, _, crc, size, _, name_length, extra_length = LOCAL_HEADER.unpack(
            header
        )
        raw_name = reader.read(name_length)
        reader.read(extra_length)
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        try:
            body = _member_body(reader, method=method, size=size, flags=flags, keep=keep(name))
        except EOFError:
            at = f"at byte {reader.offset:,}"
            yield WalkEnd(f"the archive ends inside this member ({at})", members, member=name)
            return
        except (zlib.error, ValueError) as broken:
            yield WalkEnd(f"the member cannot be read: {broken}", members, member=name)
            return
        members += 1
        if flags & 0x8:
            descriptor = reader.read(4)
            if descriptor == DESCRIPTOR_SIGNATURE:
                descriptor = reader.read(4)
            crc = struct.unpack("<I", descriptor)[0] if len(descriptor) == 4 else crc
            reader.read(8)
        yield LocalMember(name, body, body is None or zlib.crc32(body) == crc)


class _PushbackReader:
    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.pending = b""
        self.offset = 0

    def read(self, size: int) -> bytes:
        data = self.pending[:size]
        self.pending = self.pending[size:]
        if len(data) < size:
            data += self.stream.read(size - len(data))
        self.offset += len(data)
        return data

    def unread(self, data: bytes) -> None:
        self.pending = data + self.pending
        self.offset -= len(data)


def _member_body(
    reader: _PushbackReader, *, method: int, size: int, flags: int, keep: bool
) -> bytes | None:
    """A member's uncompressed bytes (None when not `keep`: read through and dropped);
    `ValueError` past the decompression limits (a kept member is read whole)."""
    bounds = limits()
    cap = bounds.max_document_bytes if keep else bounds.max_member_bytes
    produced = 0
    start = reader.offset
    kept: list[bytes] = []
    if method == 0:
        if flags & 0x8:
            raise ValueError("a stored member without its size")
        if size > cap:
            raise ValueError(f"it is {size:,} bytes, past the limit of {cap:,}")
        remaining = size
        while remaining:
            chunk = reader.read(min(CHUNK, remaining))
            if not chunk:
                raise EOFError
            remaining -= len(chunk)
            if keep:
                kept.append(chunk)
    elif method == 8:
        inflater = zlib.decompressobj(-15)
        while not inflater.eof:
            chunk = reader.read(CHUNK)
            if not chunk:
                raise EOFError
            out = inflater.decompress(chunk)
            produced += len(out)
            consumed = reader.offset - start
            if produced > cap or (
                produced > RATIO_GRACE_BYTES and produced > consumed * bounds.max_inflate_ratio
            ):
                raise ValueError(
                    f"it inflates {consumed:,} bytes to over {produced:,}, past the "
                    "decompression limits (bulk.max_document_bytes, bulk.max_inflate_ratio)"
                )
            if keep:
                kept.append(out)
        reader.unread(inflater.unused_data)
    else:
        raise ValueError(f"compression method {method} is not supported")
    return b"".join(kept) if keep else None
