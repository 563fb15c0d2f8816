"""Parsing a bulk release's files on several cores or a Dask cluster, landing them in order.

A bulk release of many files (PubMed's baseline files, FAERS quarters, DailyMed's release
parts) is parsed file by file. With more than one parse worker, the files a bulk resource
will read next are parsed ahead as Prefect tasks on a Dask task runner (`prefect-dask`): a
local cluster of `parse_workers` processes, or the Dask scheduler at `dask_address`. Each
task writes the rows of its file as an Arrow IPC stream into the download folder (big
tables never travel over the wire) and returns where, with counts and the problem the file
stopped at, if any. The resource still reads the results strictly in file order and commits
each file with its ledger and cursors as before, so a killed run resumes exactly as a
serial one: what was parsed ahead and not committed is parsed again.

Settings (`[bulk]` in `.dlt/config.toml`, `BULK__<NAME>`; `[sources.<source>]` overrides
for one source):

- `parse_workers`: parse processes of the local cluster (default: the machine's cores
  less one, which the loader and PostgreSQL need: 1 on a 2-core machine, where two
  workers landed slower than one); 1 parses in the loading process, as before, and
  starts no cluster;
- `dask_address`: a running Dask scheduler (`tcp://host:8786`) to parse on instead; its
  workers need this project installed, the bulk files and the download folder at the same
  paths (a shared file system), and `PREFECT_API_URL` of the Prefect server the flow
  reports to;
- `parallel_min_bytes`: a release whose files to read hold fewer bytes than this (64 MiB)
  is parsed in the loading process: a cluster costs more than it saves.

`land()` opens one `ParsePool` per run (`parsing`), so the cluster lives across windows;
a resource asks for it with `pool_of(source)`.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import uuid
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

import dlt
import pyarrow as pa

from extract.bulk import BulkMember, identity
from extract.errors import ExtractError

log = logging.getLogger(__name__)

DEFAULT_MIN_BYTES = 64 << 20
# Parse results written ahead and not read yet, per parse worker: enough to keep every
# worker busy while the loader commits a file, few enough to bound the disk they take.
AHEAD_PER_WORKER = 2
ITEM = "item"  # the column of a parsed row naming the item of its file it came from


class ParseFailed(ExtractError):
    """Parsing a file on a worker failed (the parser raised, or the worker died): the run
    stops at that file; the files before it are committed, none after it."""


@dataclass(frozen=True)
class ParseSettings:
    workers: int
    address: str | None = None
    min_bytes: int = DEFAULT_MIN_BYTES

    @property
    def parallel(self) -> bool:
        return self.workers > 1 or bool(self.address)


def default_workers() -> int:
    """The machine's cores less the one the loader and PostgreSQL need (at least 1)."""
    return max((os.cpu_count() or 1) - 1, 1)


def parse_settings(source: str) -> ParseSettings:
    """`parse_workers`, `dask_address` and `parallel_min_bytes` of `source`
    (`[sources.<source>]`, else `[bulk]`)."""

    def setting(name: str) -> Any:
        value = dlt.config.get(f"sources.{source}.{name}")
        return value if value not in (None, "") else dlt.config.get(f"bulk.{name}")

    workers = setting("parse_workers")
    address = setting("dask_address")
    min_bytes = setting("parallel_min_bytes")
    return ParseSettings(
        workers=max(int(workers), 1) if workers not in (None, "") else default_workers(),
        address=str(address) if address else None,
        min_bytes=int(min_bytes) if min_bytes not in (None, "") else DEFAULT_MIN_BYTES,
    )


@dataclass(frozen=True)
class FileRef:
    """A release file or archive member as a worker opens it again: by path (and member
    name). Workers elsewhere need the same path on a shared file system."""

    uri: str
    path: str
    member: str | None = None

    @classmethod
    def of(cls, member: BulkMember) -> FileRef:
        return cls(
            uri=member.uri,
            path=str(member.path),
            member=member.member.filename if member.member is not None else None,
        )

    @contextmanager
    def opened(self) -> Iterator[BulkMember]:
        if self.member is None:
            yield BulkMember(uri=self.uri, path=Path(self.path))
            return
        with zipfile.ZipFile(self.path) as archive:
            yield BulkMember(
                uri=self.uri,
                path=Path(self.path),
                member=archive.getinfo(self.member),
                archive=archive,
            )


@dataclass(frozen=True)
class Parsed:
    """What a worker made of one file: its rows in the Arrow IPC stream at `path` (each
    with the `item` it came from), how many items it read, and the problem it stopped at
    (a `MalformedInput`'s) when the file is broken after those rows."""

    uri: str
    path: str
    rows: int
    items: int
    problem: str | None = None

    def batches(self) -> Iterator[pa.RecordBatch]:
        with pa.OSFile(self.path, "rb") as file, pa.ipc.open_stream(file) as reader:
            yield from reader


class ParsedWriter:
    """Writes a file's parsed rows (Arrow tables of a raw table's schema) with the item
    each came from, as the Arrow IPC stream a `Parsed` reads back."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema.append(pa.field(ITEM, pa.int64(), nullable=False))
        options = pa.ipc.IpcWriteOptions(compression="lz4")
        self._writer = pa.ipc.new_stream(str(path), self.schema, options=options)
        self.rows = 0

    def write(self, table: pa.Table, items: Sequence[int]) -> None:
        table = table.append_column(self.schema.field(ITEM), pa.array(items, pa.int64()))
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()


# A file's parse: (the file, the IPC file to write) -> what it wrote, a dataclass with
# its `path` (`Parsed`, or the source's own). A module-level function, so that Dask sends
# workers its name, not its code.
ParseFile = Callable[[BulkMember, Path], Any]


@functools.cache
def parse_task() -> Any:
    """`parse_release_file` as a Prefect task. Made when a pool first submits, so that
    Prefect (over a second to import) is not imported by every command that imports the
    extract (`medmirror status`, the API, the test processes)."""
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    return task(name="parse release file", cache_policy=NO_CACHE, persist_result=False)(
        parse_release_file
    )


def parse_release_file(parse: ParseFile, ref: FileRef, out: str) -> Any:
    """Parse one release file on a worker into the IPC file `out`: written under another
    name, then renamed, so that a task run again (its worker died after it ran, and its
    result with it) never rewrites a file the loader is reading."""
    writing = Path(f"{out}.{uuid.uuid4().hex}.part")
    try:
        with ref.opened() as member:
            parsed = parse(member, writing)
        os.replace(writing, out)
    finally:
        writing.unlink(missing_ok=True)
    return replace(parsed, path=out)


class ParsePool:
    """The parse tasks of one bulk run: submitted ahead in file order, read back in it.

    The Dask task runner starts on the first `ahead` call offered enough to parse (two
    files at least, `min_bytes` together) and stays up until `close`."""

    def __init__(self, source: str, settings: ParseSettings) -> None:
        self.source = source
        self.settings = settings
        self._runner: Any = None
        self._stack = ExitStack()
        self._futures: dict[str, tuple[Any, Path]] = {}  # file identity -> (future, output)
        self._slots = settings.workers

    @property
    def started(self) -> bool:
        return self._runner is not None

    def ahead(self, members: Sequence[BulkMember], parse: ParseFile, folder: Path) -> None:
        """Submit the parse of the first of `members` (the files the resource reads next,
        in order) not submitted yet, keeping at most `AHEAD_PER_WORKER` per worker."""
        if not self.settings.parallel or not members:
            return
        if not self.started:
            if len(members) < 2 or _size(members) < self.settings.min_bytes:
                return
            # What an earlier run's workers left (a run killed, a remote task that went
            # on): no other run of the source is under way (one refresh at a time).
            folder.mkdir(parents=True, exist_ok=True)
            for left in folder.glob(f"{self.source}-*.arrows*"):
                left.unlink(missing_ok=True)
            self._start()
        for member in members[: self._slots * AHEAD_PER_WORKER]:
            key = identity(member)
            if key in self._futures or member.problem is not None:
                continue
            out = folder / f"{self.source}-{uuid.uuid4().hex}.arrows"
            # Submitted outside the run's Prefect context: prefect-dask sends the context
            # to the worker with the task, and that of a refresh's extract task does not
            # pickle. The parse tasks report to the same Prefect API, as task runs of
            # their own.
            future = contextvars.Context().run(
                self._runner.submit,
                parse_task(),
                parameters={"parse": parse, "ref": FileRef.of(member), "out": str(out)},
            )
            self._futures[key] = (future, out)

    def parsed(self, member: BulkMember) -> Any:
        """The parse of `member` submitted ahead, once done; None when it was not
        submitted (the caller parses it itself). A failed parse is `ParseFailed`."""
        submitted = self._futures.get(identity(member))
        if submitted is None:
            return None
        future, _ = submitted
        try:
            return future.result()
        except Exception as failed:  # the parser raised, or the worker died (KilledWorker)
            raise ParseFailed(
                self.source,
                member.uri,
                f"parsing on a Dask worker failed ({type(failed).__name__}: {failed}); "
                "the run stops at this file: it and the files after it were not landed",
            ) from failed

    def done(self, member: BulkMember) -> None:
        """`member` is read to its end: its parse result is no longer needed."""
        submitted = self._futures.pop(identity(member), None)
        if submitted is not None:
            _remove(submitted[1])

    def close(self) -> None:
        """Cancel what was parsed ahead and not read (a run that failed or was stopped),
        stop the local cluster (or leave the scheduler), and remove the files written."""
        for future, _ in self._futures.values():
            future.wrapped_future.cancel()
        self._stack.close()
        self._runner = None
        for _, out in self._futures.values():
            _remove(out)
        self._futures.clear()

    def _start(self) -> None:
        from prefect_dask import DaskTaskRunner

        if self.settings.address:
            runner = DaskTaskRunner(address=self.settings.address)
            where = f"the Dask scheduler at {self.settings.address}"
        else:
            runner = DaskTaskRunner(
                cluster_kwargs={
                    "n_workers": self.settings.workers,
                    "threads_per_worker": 1,  # lxml and Arrow building hold the GIL
                    "processes": True,
                    "dashboard_address": None,
                    "env": _worker_environment(),
                }
            )
            where = f"a local Dask cluster of {self.settings.workers} processes"
        self._runner = self._stack.enter_context(runner)
        if self.settings.address:
            threads = sum(
                worker.get("nthreads", 1)
                for worker in runner.client.scheduler_info().get("workers", {}).values()
            )
            self._slots = max(threads, 1)
        log.info("%s: parsing release files on %s", self.source, where)


def _remove(out: Path) -> None:
    """A parse result, and what its task was still writing."""
    out.unlink(missing_ok=True)
    for part in out.parent.glob(f"{out.name}.*.part"):
        part.unlink(missing_ok=True)


def _size(members: Sequence[BulkMember]) -> int:
    total = 0
    for member in members:
        if member.member is not None:
            total += member.member.compress_size
        else:
            try:
                total += member.path.stat().st_size
            except OSError:
                pass
    return total


def _worker_environment() -> dict[str, str]:
    """What local workers need besides the environment they inherit: the Prefect API
    this process reports to (a temporary server's too, else each worker would start its
    own)."""
    from prefect.client.orchestration import get_client

    return {
        "PREFECT_API_URL": str(get_client(sync_client=True).api_url),
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",  # parse tasks have no flow
    }


Item = TypeVar("Item")


class Lookahead(Generic[Item]):
    """`items` one by one, holding the next `size` - 1 of them in `ahead` (the files a
    resource reads next: their parses are submitted ahead). Size 1 reads as lazily as a
    plain iteration."""

    def __init__(self, items: Iterable[Item], size: int) -> None:
        self._items = iter(items)
        self.size = max(size, 1)
        self.ahead: deque[Item] = deque()

    def __iter__(self) -> Lookahead[Item]:
        return self

    def __next__(self) -> Item:
        while len(self.ahead) < self.size:
            following = next(self._items, _END)
            if following is _END:
                break
            self.ahead.append(following)
        if not self.ahead:
            raise StopIteration
        return self.ahead.popleft()


_END: Any = object()


# The pools of the bulk runs in progress in this process, by source (`land()` opens and
# closes them, as it does the file accounts).
_POOLS: dict[str, ParsePool] = {}


@contextmanager
def parsing(source: str) -> Iterator[ParsePool]:
    """The parse pool of `source`'s run, for as long as the run lasts."""
    pool = _POOLS[source] = ParsePool(source, parse_settings(source))
    try:
        yield pool
    finally:
        _POOLS.pop(source, None)
        pool.close()


def pool_of(source: str) -> ParsePool:
    """The parse pool of `source`'s run in progress; outside `land()` a serial one."""
    return _POOLS.get(source) or ParsePool(source, ParseSettings(workers=1))
