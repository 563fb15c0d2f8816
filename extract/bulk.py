"""Bulk release files: a URL or a local path, folders, zip and gz members, streamed.

A bulk location is a folder, a single file, a `.zip`, or an `https://` URL of one (which
is downloaded once into the data folder, then read like a local file). Every member is
opened as a stream: zip members and gz files are decompressed as they are read, never
loaded whole into memory. Members come in a stable order (folders sorted by path, a zip's
members in the zip's own order), so a run that stops can resume after the last member it
finished. A zip's directory is read record by record (`extract.zipdirectory`): memory
stays flat whatever the number and size of the members.

Decompression is capped (`[bulk]` in `.dlt/config.toml`, generous defaults): a member or
`.gz` file past `max_member_bytes` decompressed, or inflating more than `max_inflate_ratio`
times its compressed size (a decompression bomb), the members of one archive past
`max_file_bytes` together, and a document read whole past `max_document_bytes` are
refused with their name and size (`TooLarge`, an `OSError` as a broken archive's errors
are, so each source rejects the member and lands the rest).
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import logging
import os
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import dlt
import requests

from extract.credentials import with_password
from extract.errors import MalformedInput, PublisherUnavailable, RequestRejected
from extract.hosts import scheme_problem
from extract.http import PublisherClient
from extract.zipdirectory import ZipWithoutDirectory, directory_chunks, entries
from medmirror.files import make_private_dirs

log = logging.getLogger(__name__)

DOWNLOAD_CHUNK = 1 << 20
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


def _size(value: int) -> str:
    return f"{value:,} bytes"


class _Inflated:
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
                f"{self.name} decompresses to more than {_size(self.limits.max_member_bytes)} "
                "(bulk.max_member_bytes): refused"
            )
        if self.produced > RATIO_GRACE_BYTES:
            consumed = max(self.compressed.tell(), 1)
            if self.produced > consumed * self.limits.max_inflate_ratio:
                raise TooLarge(
                    f"{self.name} inflated {_size(consumed)} to over {_size(self.produced)}, "
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
            f"{name} is {_size(info.file_size)} decompressed, more than "
            f"{_size(bounds.max_document_bytes)} (bulk.max_document_bytes) read whole: refused"
        )
    if info.file_size > bounds.max_member_bytes:
        raise TooLarge(
            f"{name} is {_size(info.file_size)} decompressed, more than "
            f"{_size(bounds.max_member_bytes)} (bulk.max_member_bytes): refused"
        )
    if (
        info.file_size > RATIO_GRACE_BYTES
        and info.file_size > max(info.compress_size, 1) * bounds.max_inflate_ratio
    ):
        raise TooLarge(
            f"{name} is {_size(info.compress_size)} compressed and {_size(info.file_size)} "
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
            f"{_size(total)}, more than {_size(bounds.max_file_bytes)} "
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
            f"larger than {_size(limit)}, the most read whole into memory "
            "(bulk.max_document_bytes): refused",
        )
    return content


class DocumentTooLarge(MalformedInput):
    """A document too large to be read whole (a caller may stream it instead)."""


@dataclass(frozen=True)
class BulkMember:
    """One document of a bulk release: a file, or a member inside a zip.

    A zip member reads through the archive its iterator opened once, so it can be read
    only while that iteration goes on.
    """

    uri: str  # where it came from: a path, or "archive.zip!member"
    path: Path  # the file on disk (the archive for a zip member)
    member: zipfile.ZipInfo | None = field(default=None, compare=False, repr=False)
    archive: zipfile.ZipFile | None = field(default=None, compare=False, repr=False)
    problem: str | None = None  # why it cannot be read at all (a broken archive)

    @property
    def name(self) -> str:
        return self.member.filename if self.member else self.path.name

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """The member's bytes as a stream (decompressed when it is gzipped); `TooLarge`
        when it decompresses past the limits (`Limits`)."""
        if self.archive is None:
            raw = open(self.path, "rb")
        else:
            check_zip_member(self.member, self.archive)
            raw = self.archive.open(self.member)
        try:
            if self.name.endswith(".gz"):
                with gzip.GzipFile(fileobj=raw) as unzipped:
                    yield _Inflated(unzipped, raw, name=self.name)
            else:
                yield raw
        finally:
            raw.close()

    def read(self, source: str, *, limit: int | None = None) -> bytes:
        """The whole member (for small documents: past `limit`, by default
        `max_document_bytes`, it is refused with `DocumentTooLarge`); a broken archive
        names this member."""
        if self.problem:
            raise MalformedInput(source, self.uri, self.problem)
        try:
            with self.open() as stream:
                return read_whole(stream, source=source, uri=self.uri, limit=limit)
        except TooLarge as refused:
            raise MalformedInput(source, self.uri, str(refused)) from None
        except (zipfile.BadZipFile, EOFError, OSError, gzip.BadGzipFile, zlib.error) as broken:
            raise MalformedInput(source, self.uri, f"cannot read: {broken}") from None


def resolve_location(
    location: str | Path,
    *,
    source: str,
    download_dir: Path,
    name: str | None = None,
    refetch: bool = False,
) -> Path:
    """The local path of a bulk location (a URL is downloaded first; see `download` for
    `name` and `refetch`)."""
    location = str(location)
    if urlsplit(location).scheme in ("http", "https"):
        location = with_password(location, source)  # kept in secrets, not in the URL
        return download(
            location, source=source, download_dir=download_dir, name=name, refetch=refetch
        )
    path = Path(location).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{source}: bulk location {path} does not exist")
    if path.is_dir():
        outside = _links_outside(path)
        if outside:
            shown = ", ".join(f"{link} -> {target}" for link, target in outside[:5])
            raise MalformedInput(
                source,
                str(path),
                f"the folder links to files outside it ({shown}"
                + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
                + "): refused; copy the files in, or give their own location",
            )
    return path


def _links_outside(folder: Path) -> list[tuple[Path, Path]]:
    """The symbolic links under `folder` that lead out of it (or nowhere)."""
    root = folder.resolve()
    outside = []
    for parent, folders, files in os.walk(folder, followlinks=False):
        for name in (*folders, *files):
            entry = Path(parent, name)
            if entry.is_symlink():
                target = entry.resolve()
                if not target.is_relative_to(root) or not target.exists():
                    outside.append((entry, target))
    return sorted(outside)


def iter_members(path: Path, *, source: str, suffixes: tuple[str, ...]) -> Iterator[BulkMember]:
    """Every document under `path` whose name ends with one of `suffixes` (or `.gz` of one)."""
    yield from _members_of(path, source=source, suffixes=suffixes)


def signature(path: Path, *, source: str, suffixes: tuple[str, ...]) -> str:
    """A digest of what a bulk location holds (names, sizes and zip CRCs or file mtimes):
    equal digests mean an unchanged release, so a rerun can skip it."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if file.suffix == ".zip":
            digest.update(f"{file}|".encode())
            _digest_zip_directory(file, digest)
        elif _wanted(file.name, suffixes):
            stat = file.stat()
            digest.update(f"{file}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _digest_zip_directory(path: Path, digest: Any) -> None:  # a hashlib hash
    """Feed a zip's central directory (names, sizes, CRCs of every member) to `digest`."""
    try:
        for chunk in directory_chunks(path):
            digest.update(chunk)
    except (zipfile.BadZipFile, OSError):  # not a readable zip: its size and time stand for it
        stat = path.stat()
        digest.update(f"{stat.st_size}|{stat.st_mtime_ns}".encode())


def _members_of(path: Path, *, source: str, suffixes: tuple[str, ...]) -> Iterator[BulkMember]:
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file():
                yield from _members_of(child, source=source, suffixes=suffixes)
    elif path.suffix == ".zip":
        try:
            members = entries(path)
            first = next(members, None)
            archive = ZipWithoutDirectory(path)
        except (zipfile.BadZipFile, OSError) as broken:
            yield BulkMember(uri=str(path), path=path, problem=f"not a readable zip: {broken}")
            return
        with archive:  # members in the zip's own order: the same every time it is read
            for info in itertools.chain([first] if first else [], members):
                if not info.is_dir() and _wanted(info.filename, suffixes):
                    yield BulkMember(
                        uri=f"{path}!{info.filename}", path=path, member=info, archive=archive
                    )
    elif _wanted(path.name, suffixes):
        yield BulkMember(uri=str(path), path=path)


def _wanted(name: str, suffixes: tuple[str, ...]) -> bool:
    name = name.removesuffix(".gz")
    return name.endswith(suffixes)


def download(
    url: str,
    *,
    source: str,
    download_dir: Path,
    name: str | None = None,
    refetch: bool = False,
) -> Path:
    """Fetch `url` into `download_dir` (once: a copy whose checksum still matches the one
    taken when it was downloaded is reused).

    `name` is the file name to save it under when the URL's own does not say what it is
    (`.../media/76860/download` is a zip); it must stay inside `download_dir/<source>`.
    `refetch` fetches it again even when a copy exists: for a URL that always serves the
    current release, whose content changes. Only https is fetched (plain http only from
    this machine), without the source's API key unless the host is its API's.
    """
    shown = PublisherClient.scrub_url(url)
    refused = scheme_problem(url)
    if refused:
        raise RequestRejected(source, f"bulk file {shown}", refused)
    folder = (download_dir / source).resolve()
    target = (folder / (name or Path(urlsplit(url).path).name or "download")).resolve()
    if not target.is_relative_to(folder) or target == folder:
        raise MalformedInput(
            source, f"bulk file {shown}", f"the name {name!r} leads outside {folder}: refused"
        )
    if target.exists() and not refetch:
        problem = _copy_problem(target, url)
        if problem is None:
            log.info("%s: using the copy of %s already in %s", source, shown, target)
            return target
        log.warning("%s: not reusing %s (%s): downloading it again", source, target, problem)
    make_private_dirs(target.parent)
    partial = target.with_name(target.name + ".part")
    client = PublisherClient(source)
    log.info("%s: downloading %s", source, shown)
    response = client.get(url, what=f"bulk file {shown}", stream=True)
    cap = limits().max_file_bytes
    digest = hashlib.sha256()
    size = 0
    try:
        with response, open(partial, "wb") as out:
            for chunk in response.iter_content(DOWNLOAD_CHUNK):
                size += len(chunk)
                if size > cap:
                    raise TooLarge(
                        f"the download is larger than {_size(cap)} (bulk.max_file_bytes): refused"
                    )
                digest.update(chunk)
                out.write(chunk)
    except requests.RequestException as cut:
        partial.unlink(missing_ok=True)
        raise PublisherUnavailable(
            source,
            f"bulk file {shown}",
            f"the download stopped: {client.scrub(str(cut))}",
        ) from None
    except TooLarge as refused:
        partial.unlink(missing_ok=True)
        raise MalformedInput(source, f"bulk file {shown}", str(refused)) from None
    partial.rename(target)
    _checksum_file(target).write_text(
        json.dumps({"url": shown, "bytes": size, "sha256": digest.hexdigest()}) + "\n"
    )
    return target


def _checksum_file(target: Path) -> Path:
    """Where the size and SHA-256 of a download are kept, beside it."""
    return target.with_name(target.name + ".sha256.json")


def _copy_problem(target: Path, url: str) -> str | None:
    """Why an earlier download at `target` is not the file `url` gave (None: it is): no
    checksum kept, another URL, another size, another SHA-256."""
    try:
        kept = json.loads(_checksum_file(target).read_text())
    except (OSError, ValueError):
        return "no checksum was kept for it"
    if kept.get("url") != PublisherClient.scrub_url(url):
        return f"it came from {kept.get('url')}"
    if target.stat().st_size != kept.get("bytes"):
        return f"its size is not the {kept.get('bytes')} bytes downloaded"
    digest = hashlib.sha256()
    with open(target, "rb") as copy:
        while chunk := copy.read(DOWNLOAD_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != kept.get("sha256"):
        return "its SHA-256 is not the one downloaded"
    return None
