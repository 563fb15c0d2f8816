"""Bulk release files: a URL or a local path, folders, zip and gz members, streamed, and
the one ledger every bulk source keeps of them.

A bulk location is a folder, a single file, a `.zip`, or an `https://` URL of one (which
is downloaded once into the data folder, then read like a local file). Every member is
opened as a stream: zip members and gz files are decompressed as they are read, never
loaded whole into memory. Members come in a stable order (folders sorted by path, a zip's
members in the zip's own order), so a run that stops can resume after the last member it
finished. A zip's directory is read record by record (`extract.zips`): memory
stays flat whatever the number and size of the members.

`BulkLedger` is what a bulk resource knows of the files it was offered: which release files
it landed (by the key the source gives them: a release year, a quarter, a file's name and
size), which it rejected, and, for the run in progress, what became of every file or
member offered (`FileAccount`): landed (rows), already landed, rejected (reason), or not a
release file of this source (why). Nothing offered is skipped without saying so: the
account goes to the run's summary, and a run offered no release file at all fails.

Decompression is capped (`extract.limits`): a member past a limit is refused with its
name and size, and the source rejects it and lands the rest.
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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import requests
from lxml import etree

from extract.credentials import with_password
from extract.errors import ExtractError, MalformedInput, PublisherUnavailable, RequestRejected
from extract.hosts import scheme_problem
from extract.http import PublisherClient
from extract.limits import (
    Inflated,
    TooLarge,
    check_zip_member,
    limits,
    read_whole,
    size_text,
)
from extract.retention import RUN, NoRoom, check_room, mark_used
from extract.zips import ZipWithoutDirectory, directory_chunks, entries
from medmirror.files import make_private_dirs

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
                    yield Inflated(unzipped, raw, name=self.name)
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
    current release, whose content changes. Such a refetch is a conditional request (the
    `ETag` and `Last-Modified` the copy came with): a 304 answer keeps the copy, one
    request for an unchanged release. Only https is fetched (plain http only from
    this machine), without the source's API key unless the host is its API's.
    """
    shown = PublisherClient.scrub_url(url)
    refused = scheme_problem(url)
    if refused:
        raise RequestRejected(source, f"bulk file {shown}", refused)
    account_of(source).fetched(shown)  # the run's way in
    folder = (download_dir / source).resolve()
    target = (folder / (name or Path(urlsplit(url).path).name or "download")).resolve()
    if not target.is_relative_to(folder) or target == folder:
        raise MalformedInput(
            source, f"bulk file {shown}", f"the name {name!r} leads outside {folder}: refused"
        )
    conditional: dict[str, str] = {}
    if target.exists():
        problem = _copy_problem(target, url)
        if problem is None and not refetch:
            log.info("%s: using the copy of %s already in %s", source, shown, target)
            mark_used(_checksum_file(target))
            return target
        if problem is None:
            conditional = _validators(target)
        else:
            log.warning("%s: not reusing %s (%s): downloading it again", source, target, problem)
    make_private_dirs(target.parent)
    partial = target.with_name(target.name + ".part")
    client = PublisherClient(source)
    log.info("%s: downloading %s", source, shown)
    response = client.get(url, what=f"bulk file {shown}", stream=True, headers=conditional)
    if response.status_code == 304 and conditional:
        response.close()
        log.info("%s: %s is unchanged since %s was downloaded", source, shown, target)
        mark_used(_checksum_file(target))
        return target
    announced = response.headers.get("Content-Length")
    try:
        check_room(
            source,
            f"bulk file {shown}",
            target.parent,
            int(announced) if announced and announced.isdigit() else None,
        )
    except NoRoom:
        response.close()
        raise
    cap = limits().max_file_bytes
    digest = hashlib.sha256()
    size = 0
    try:
        with response, open(partial, "wb") as out:
            for chunk in response.iter_content(DOWNLOAD_CHUNK):
                size += len(chunk)
                if size > cap:
                    raise TooLarge(
                        f"the download is larger than {size_text(cap)} "
                        "(bulk.max_file_bytes): refused"
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
    kept = {"url": shown, "bytes": size, "sha256": digest.hexdigest(), "run": RUN}
    for header, key in VALIDATORS:
        if response.headers.get(header):
            kept[key] = response.headers[header]
    _checksum_file(target).write_text(json.dumps(kept) + "\n")
    return target


# The answer headers kept beside a download, sent back as a conditional request's headers
# when the same URL is fetched again: an unchanged release costs one 304 answer.
VALIDATORS = (("ETag", "etag"), ("Last-Modified", "last_modified"))
CONDITIONAL = {"etag": "If-None-Match", "last_modified": "If-Modified-Since"}


def _validators(target: Path) -> dict[str, str]:
    """The conditional request headers for refetching the download at `target`."""
    try:
        kept = json.loads(_checksum_file(target).read_text())
    except (OSError, ValueError):
        return {}
    return {CONDITIONAL[key]: kept[key] for key in CONDITIONAL if kept.get(key)}


# -- the ledger and the account of offered files ----------------------------------------------


class Outcome(StrEnum):
    LANDED = "landed"
    ALREADY_LANDED = "already landed"
    REJECTED = "rejected"
    NOT_RELEASE_FILE = "not a release file"


@dataclass
class OfferedFile:
    """One file or archive member a bulk run was offered, and what became of it."""

    uri: str
    outcome: Outcome
    rows: int | None = None  # rows landed from it (landed files)
    # why it was rejected, or is not a release file; for a landed archive, what became
    # of the members inside it
    reason: str | None = None

    def describe(self) -> str:
        if self.outcome is Outcome.LANDED:
            return f"{self.uri}: landed ({self.rows:,} rows)" + (
                f"; {self.reason}" if self.reason else ""
            )
        return f"{self.uri}: {self.outcome}" + (f" ({self.reason})" if self.reason else "")


@dataclass
class FileAccount:
    """Every file a bulk run of one source was offered, in the order it was offered."""

    source: str
    files: dict[str, OfferedFile] = field(default_factory=dict)
    # The publisher's pages the run found its release files on (`extract.discovery`,
    # NLM's update-file listing, CMS's releases pages, ...), in the order read.
    pages: list[str] = field(default_factory=list)
    # The URLs the run downloaded release files from (without a password), in order.
    downloads: list[str] = field(default_factory=list)
    # What the run has to say about its files beyond their outcome (a release file landed
    # unverified: its publisher published no checksum beside it), as warnings.
    notes: list[str] = field(default_factory=list)

    def read_page(self, url: str) -> None:
        """The run looked for release files on the publisher's page at `url`."""
        if url not in self.pages:
            self.pages.append(url)

    def warn(self, note: str) -> None:
        """A warning about the run's files (once, however many windows say it)."""
        if note not in self.notes:
            self.notes.append(note)

    def fetched(self, url: str) -> None:
        """The run downloaded (or reused its copy of) the release file at `url`."""
        if url not in self.downloads:
            self.downloads.append(url)

    @property
    def landed(self) -> list[OfferedFile]:
        """The files the run landed."""
        return [offered for offered in self.files.values() if offered.outcome is Outcome.LANDED]

    def record(self, offered: OfferedFile) -> None:
        known = self.files.get(offered.uri)
        if known and known.outcome in (Outcome.LANDED, Outcome.REJECTED):
            # A later window lists again what an earlier window of this run landed or
            # rejected: the run's own outcome stands. Rows add up over windows; a landed
            # archive's note on its members is the latest (it counts the whole archive).
            if offered.outcome is Outcome.LANDED:
                known.rows = (known.rows or 0) + (offered.rows or 0)
                known.reason = offered.reason or known.reason
            return
        self.files[offered.uri] = offered

    def count(self, outcome: Outcome) -> int:
        return sum(1 for offered in self.files.values() if offered.outcome is outcome)

    @property
    def recognised(self) -> bool:
        """Whether any offered file was one of this source's release files."""
        return any(
            offered.outcome is not Outcome.NOT_RELEASE_FILE for offered in self.files.values()
        )

    def summary(self) -> str:
        counts = ", ".join(
            f"{self.count(outcome)} {outcome}" for outcome in Outcome if self.count(outcome)
        )
        return f"{len(self.files)} files offered: {counts or 'none'}"


# The accounts of the bulk runs in progress in this process, by source (`land()` opens and
# closes them; the resources, running in the same process, add to them).
_ACCOUNTS: dict[str, FileAccount] = {}


def open_account(source: str) -> FileAccount:
    _ACCOUNTS[source] = FileAccount(source)
    return _ACCOUNTS[source]


def close_account(source: str) -> FileAccount | None:
    return _ACCOUNTS.pop(source, None)


def account_of(source: str) -> FileAccount:
    """The account of `source`'s run in progress (a fresh one outside `land()`)."""
    return _ACCOUNTS.setdefault(source, FileAccount(source))


class NoReleaseFiles(MalformedInput):
    """A bulk run was offered no file that is a release file of its source."""


class BulkLedger:
    """What a bulk resource has landed and rejected (kept in its resource state, committed
    with the data), and what it does with each file offered this run (its `FileAccount`).

    The source decides what identifies a landed release file (`key`): a release year, a
    quarter, a file's name and size. A rejected file is remembered by what it is on disk
    (place, size, checksum or time): the same broken file is not read again, a corrected
    one is.
    """

    def __init__(self, source: str, state: dict[str, Any]) -> None:
        self.source = source
        self.landed: dict[str, str] = state.setdefault("landed_files", {})  # key -> uri
        self.rejected: dict[str, str] = state.setdefault("rejected_files", {})  # file -> why
        self.account = account_of(source)

    def offered(self, path: Path, *, open_archives: bool = True) -> Iterator[BulkMember]:
        """Every file and archive member at `path`, in a stable order (none filtered).

        With `open_archives` false, every file at `path`, a zip as one file: for a source
        whose release file is the archive itself (DailyMed's zips of per-label zips). A
        folder holding no file at all is refused (`NoReleaseFiles`): nothing to account for.
        """
        if path.is_dir() and not any(child.is_file() for child in path.rglob("*")):
            raise NoReleaseFiles(self.source, str(path), "the bulk location holds no files")
        if open_archives:
            yield from _members_of(path, source=self.source, suffixes=("",))
            return
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            yield BulkMember(uri=str(file), path=file)

    def adopt(self, keys: Iterable[str], rejected: Iterable[str] = ()) -> None:
        """What a source's own ledger recorded before this one (landed keys, and rejected
        files by `identity`): an upgrade lands none of it again."""
        for key in keys:
            self.landed.setdefault(key, LANDED_BEFORE_LEDGER)
        for found in rejected:
            self.rejected.setdefault(found, "rejected before this ledger")

    def has_landed(self, key: str) -> bool:
        return key in self.landed

    def already_landed(self, member: BulkMember, key: str) -> None:
        where = self.landed[key]
        reason = None if where == member.uri else f"as {key} from {where}"
        self.account.record(OfferedFile(member.uri, Outcome.ALREADY_LANDED, reason=reason))

    def landed_file(self, member: BulkMember, key: str, rows: int, note: str | None = None) -> None:
        """`rows` of `member` landed, the file done; `note` says what became of the
        members inside an archive landed as one file (DailyMed's)."""
        self.landed[key] = member.uri
        self.rejected.pop(identity(member), None)
        self.account.record(OfferedFile(member.uri, Outcome.LANDED, rows=rows, reason=note))

    def nothing_new(self, member: BulkMember, why: str) -> None:
        """A release file with nothing to land although its own key has not landed: an
        older snapshot than the one landed, a part of a snapshot an earlier window of it
        landed. Accounted as already landed, saying why."""
        self.account.record(OfferedFile(member.uri, Outcome.ALREADY_LANDED, reason=why))

    def landed_part(self, member: BulkMember, rows: int, note: str | None = None) -> None:
        """Rows of a file landed in this window, the file not done yet."""
        self.account.record(OfferedFile(member.uri, Outcome.LANDED, rows=rows, reason=note))

    def was_rejected(self, member: BulkMember) -> bool:
        """Whether this very file was rejected before (it is then accounted as such)."""
        reason = self.rejected.get(identity(member))
        if reason is None:
            return False
        self.account.record(
            OfferedFile(member.uri, Outcome.REJECTED, reason=f"rejected before: {reason}")
        )
        return True

    def reject(self, member: BulkMember, error: ExtractError) -> None:
        """Remember a file that cannot be landed (the caller yields `landing.reject`)."""
        self.rejected[identity(member)] = error.problem
        self.account.record(OfferedFile(member.uri, Outcome.REJECTED, reason=error.problem))

    def refused(self, uri: str, error: ExtractError) -> None:
        """A downloaded file not landed and not remembered as rejected, so the next run
        downloads and tries it again (its checksum did not match the publisher's: a
        damaged download). The caller yields `landing.reject`."""
        self.account.record(OfferedFile(uri, Outcome.REJECTED, reason=error.problem))

    def not_release_file(self, member: BulkMember, why: str) -> None:
        self.account.record(OfferedFile(member.uri, Outcome.NOT_RELEASE_FILE, reason=why))


def identity(member: BulkMember) -> str:
    """A file as found: its place, size and checksum (zip member) or size and time."""
    if member.member is not None:
        return f"{member.uri}|{member.member.file_size}|{member.member.CRC}"
    try:
        stat = member.path.stat()
    except OSError:
        return member.uri
    return f"{member.uri}|{stat.st_size}|{stat.st_mtime_ns}"


LANDED_BEFORE_LEDGER = "(landed before this ledger)"


def xml_root(head: bytes) -> XmlRoot | None:
    """The root element of an XML document from its first bytes (`peek`): its tag as lxml
    names it (`{urn:hl7-org:v3}document`, `PubmedArticleSet`) and its attributes; None
    when they hold no start tag (not XML, empty, or cut before the root)."""
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True)
    try:
        parser.feed(head)
        for _, element in parser.read_events():
            if isinstance(element.tag, str):
                return XmlRoot(element.tag, dict(element.attrib))
    except etree.XMLSyntaxError:
        pass
    return None


@dataclass(frozen=True)
class XmlRoot:
    tag: str
    attributes: dict[str, str]


def peek(member: BulkMember, size: int = 64 * 1024) -> bytes:
    """The first `size` bytes of a member (decompressed), to recognise it by its content;
    empty when it cannot be read (reading it properly then says why)."""
    try:
        with member.open() as stream:
            return stream.read(size)
    except (zipfile.BadZipFile, EOFError, OSError, gzip.BadGzipFile, ValueError):
        return b""


def discard_download(target: Path) -> None:
    """Delete a download and the checksum kept beside it: the next run fetches it anew."""
    target.unlink(missing_ok=True)
    _checksum_file(target).unlink(missing_ok=True)


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
