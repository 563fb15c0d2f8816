"""DailyMed's release files: an SPL XML file, a per-label zip, or a release zip of per-label
zips (each holding one SPL XML and its images), read member by member, images passed by
unread, an archive cut short read as far as it goes (`extract.zips`)."""

from __future__ import annotations

import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from extract.bulk import BulkMember, iter_members, peek, xml_root
from extract.dailymed.settings import SOURCE
from extract.dailymed.spl import V3
from extract.errors import MalformedInput
from extract.limits import TooLarge, check_zip_member, read_whole
from extract.zips import LocalMember, directory_problem, walk_local_headers


@dataclass(frozen=True)
class SplFile:
    """One SPL XML document of a release (`read()` gives its bytes, or raises
    `MalformedInput` naming it when it cannot be read)."""

    uri: str
    read: Callable[[], bytes]


@dataclass(frozen=True)
class NotRead:
    """A member of a release archive passed by unread (an image, a text file): counted in
    what the run says of the archive, never landed."""

    uri: str


ZIP_SIGNATURE = b"PK\x03\x04"
SPL_ROOT = f"{{{V3}}}document"


def release_kind(file: Path) -> str | None:
    """What a top-level file of a bulk location is, by its content: `zip` (a release
    archive or a per-label zip: a zip's first local header, even when the archive is cut
    short), `spl` (an SPL document: the HL7 v3 `document` root), or None (not a release
    file). A file whose first bytes say neither (empty, broken) is what its name says
    (`.zip`, `.xml`), to be rejected with what is wrong when it is read."""
    if _head(file) == ZIP_SIGNATURE:
        return "zip"
    root = xml_root(peek(BulkMember(uri=str(file), path=file)))
    if root is not None:
        return "spl" if root.tag == SPL_ROOT else None
    name = file.name.lower()
    return "zip" if name.endswith(".zip") else "spl" if name.endswith(".xml") else None


def spl_files(path: Path) -> Iterator[SplFile | MalformedInput | NotRead]:
    """The SPL documents of one release file: an XML file, a per-label zip, or a zip of
    per-label zips. Members that are not XML or zips (images) are passed by unread (a
    `NotRead` each, for counting); what cannot be read comes out as a `MalformedInput` in
    its place and the rest follows."""
    if _head(path) != ZIP_SIGNATURE:
        yield SplFile(str(path), lambda: _read_file(path))
        return
    problem = directory_problem(path)
    members = iter_members(path, source=SOURCE, suffixes=("",)) if not problem else []
    for member in members:
        problem = problem or member.problem
        if problem:
            break
        lower = member.name.lower()
        if lower.endswith(".xml"):
            yield SplFile(member.uri, lambda member=member: member.read(SOURCE))
        elif lower.endswith(".zip"):
            yield from _inner_zip(member.uri, member.open)
        else:
            yield NotRead(member.uri)
    if problem:  # no directory of its own (a truncated download): read its local headers
        with open(path, "rb") as stream:
            yield from _scan_zip(stream, where=str(path), problem=problem)


def _head(path: Path) -> bytes:
    """A file's first four bytes (a zip's local header signature)."""
    try:
        with open(path, "rb") as stream:
            return stream.read(len(ZIP_SIGNATURE))
    except OSError:
        return b""


def _read_file(path: Path) -> bytes:
    try:
        with open(path, "rb") as stream:
            return read_whole(stream, source=SOURCE, uri=str(path))
    except OSError as broken:
        raise MalformedInput(SOURCE, str(path), f"cannot read: {broken}") from None


def _inner_zip(uri: str, opener: Callable[[], Any]) -> Iterator[SplFile | MalformedInput]:
    """The XML members of a per-label zip inside a release zip (read through the outer
    member's stream: nothing is unpacked to disk)."""
    try:
        with opener() as stream, zipfile.ZipFile(stream) as inner:
            names = [info for info in inner.infolist() if info.filename.lower().endswith(".xml")]
            for info in inner.infolist():
                if info not in names and not info.is_dir():
                    yield NotRead(f"{uri}!{info.filename}")
            for info in names:
                try:
                    check_zip_member(info, inner, whole=True)
                    content = inner.read(info)
                except TooLarge as refused:
                    yield MalformedInput(SOURCE, f"{uri}!{info.filename}", str(refused))
                    continue
                except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as broken:
                    yield MalformedInput(SOURCE, f"{uri}!{info.filename}", f"cannot read: {broken}")
                    continue
                yield SplFile(f"{uri}!{info.filename}", lambda content=content: content)
            if not names:
                yield MalformedInput(SOURCE, uri, "a per-label zip without an XML document")
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as broken:
        problem = f"not a readable zip ({broken})"
        try:
            with opener() as stream:
                yield from _scan_zip(stream, where=uri, problem=problem)
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as again:
            yield MalformedInput(SOURCE, uri, f"{problem}; cannot be read at all: {again}")


def _scan_zip(stream: BinaryIO, *, where: str, problem: str) -> Iterator[SplFile | MalformedInput]:
    """The XML members (and the XML of per-label zips) of an archive without its
    directory, found by its local headers, then one reject saying why it could not be
    read whole."""
    for item in walk_local_headers(stream, keep=_wanted):
        if not isinstance(item, LocalMember):
            uri = f"{where}!{item.member}" if item.member else where
            yield MalformedInput(
                SOURCE, uri, f"{problem}{'; ' if item.complete else ': '}{item.reason}"
            )
            return
        uri = f"{where}!{item.name}"
        if item.body is None:
            yield NotRead(uri)
        elif not item.crc_matches:
            yield MalformedInput(SOURCE, uri, f"{problem}: the member fails its CRC check")
        elif item.name.lower().endswith(".xml"):
            yield SplFile(uri, lambda body=item.body: body)
        else:
            with tempfile.TemporaryFile() as spool:  # a per-label zip: opened from disk
                spool.write(item.body)
                spool.seek(0)
                contents = list(_inner_zip(uri, lambda spool=spool: _Unclosed(spool)))
            yield from contents


def _wanted(name: str) -> bool:
    return name.lower().endswith((".xml", ".zip"))


class _Unclosed:
    """A context manager handing out a stream without closing it afterwards."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def __enter__(self) -> BinaryIO:
        self.stream.seek(0)
        return self.stream

    def __exit__(self, *exc: object) -> None:
        return None
