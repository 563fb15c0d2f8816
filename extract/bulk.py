"""Bulk release files: a URL or a local path, folders, zip and gz members, streamed.

A bulk location is a folder, a single file, a `.zip`, or an `https://` URL of one (which
is downloaded once into the data folder, then read like a local file). Every member is
opened as a stream: zip members and gz files are decompressed as they are read, never
loaded whole into memory. Members come in a stable order (folders sorted by path, a zip's
members in the zip's own order), so a run that stops can resume after the last member it
finished. A zip's directory is read record by record (`extract.zipdirectory`): memory
stays flat whatever the number and size of the members.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import logging
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import requests

from extract.errors import MalformedInput, PublisherUnavailable
from extract.http import PublisherClient
from extract.zipdirectory import ZipWithoutDirectory, directory_chunks, entries

log = logging.getLogger(__name__)

DOWNLOAD_CHUNK = 1 << 20


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
        """The member's bytes as a stream (decompressed when it is gzipped)."""
        raw = open(self.path, "rb") if self.archive is None else self.archive.open(self.member)
        try:
            if self.name.endswith(".gz"):
                with gzip.GzipFile(fileobj=raw) as unzipped:
                    yield unzipped
            else:
                yield raw
        finally:
            raw.close()

    def read(self, source: str) -> bytes:
        """The whole member (for small documents); a broken archive names this member."""
        if self.problem:
            raise MalformedInput(source, self.uri, self.problem)
        try:
            with self.open() as stream:
                return stream.read()
        except (zipfile.BadZipFile, EOFError, OSError, gzip.BadGzipFile) as broken:
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
        return download(
            location, source=source, download_dir=download_dir, name=name, refetch=refetch
        )
    path = Path(location).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{source}: bulk location {path} does not exist")
    return path


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
    """Fetch `url` into `download_dir` (once: an existing complete copy is reused).

    `name` is the file name to save it under when the URL's own does not say what it is
    (`.../media/76860/download` is a zip). `refetch` fetches it again even when a copy
    exists: for a URL that always serves the current release, whose content changes.
    """
    target = download_dir / source / (name or Path(urlsplit(url).path).name or "download")
    if target.exists() and not refetch:
        log.info("%s: using the copy of %s already in %s", source, url, target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    client = PublisherClient(source)
    log.info("%s: downloading %s", source, client.scrub(url))
    response = client.get(url, what=f"bulk file {client.scrub(url)}", stream=True)
    try:
        with response, open(partial, "wb") as out:
            for chunk in response.iter_content(DOWNLOAD_CHUNK):
                out.write(chunk)
    except requests.RequestException as cut:
        raise PublisherUnavailable(
            source,
            f"bulk file {client.scrub(url)}",
            f"the download stopped: {client.scrub(str(cut))}",
        ) from None
    partial.rename(target)
    return target
