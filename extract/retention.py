"""Downloads kept per a retention setting, and room checked before a large one.

Every release file a run downloads (or finds already downloaded and uses, or is told by a
304 that it is unchanged) is marked with that run (`run` in the `.sha256.json` kept beside
it). A source's latest release is the set of files its latest run used; retention keeps
the files of the newest `[downloads] keep_releases` runs (default 1) of each source and
frees the rest. `medmirror storage` says what it would free; a refresh frees it after a
source's extract succeeded (`prune`).

Before a download whose size the publisher announces (`Content-Length`), the free space of
the download folder must hold it and `[downloads] min_free_bytes` (1 GiB) more; otherwise
the run stops with `NoRoom`, naming the folder and both sizes.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dlt

from extract.errors import ExtractError
from extract.limits import size_text

log = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".sha256.json"
# This process's run: every download it uses is marked with it.
RUN = os.environ.get("MEDMIRROR_RUN_ID") or (
    datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
)
DEFAULT_MIN_FREE_BYTES = 1 << 30


class NoRoom(ExtractError):
    """Not enough free disk space for a download: not retried (freeing space is a person's
    job)."""


def keep_releases() -> int:
    return int(dlt.config.get("downloads.keep_releases") or 1)


def min_free_bytes() -> int:
    configured = dlt.config.get("downloads.min_free_bytes")
    return int(configured) if configured is not None else DEFAULT_MIN_FREE_BYTES


def check_room(source: str, what: str, folder: Path, size: int | None) -> None:
    """Stop before writing `size` bytes into `folder` when the disk cannot hold them and the
    margin."""
    if not size:
        return
    free = shutil.disk_usage(folder).free
    margin = min_free_bytes()
    if free < size + margin:
        raise NoRoom(
            source,
            what,
            f"the download is {size_text(size)} but {folder} has {size_text(free)} free "
            f"(and {size_text(margin)} must stay free, [downloads] min_free_bytes): free "
            "space there, or set MEDMIRROR_DATA_DIR to a disk with room",
        )


def mark_used(sidecar: Path) -> None:
    """Mark the download whose checksum file is `sidecar` as used by this run."""
    try:
        kept = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        return
    if kept.get("run") != RUN:
        kept["run"] = RUN
        sidecar.write_text(json.dumps(kept) + "\n")


@dataclass
class Retention:
    """What retention keeps and frees in one source's download folder."""

    source: str
    kept: list[Path] = field(default_factory=list)
    freed: list[Path] = field(default_factory=list)  # files and their checksum files
    kept_bytes: int = 0
    freed_bytes: int = 0  # sizes when planned: what pruning frees


def plan(folder: Path, keep: int | None = None) -> Retention:
    """Which files of `folder` (one source's downloads) retention keeps and frees."""
    keep = keep or keep_releases()
    result = Retention(folder.name)
    if not folder.is_dir():
        return result
    runs: dict[Path, str] = {}
    for sidecar in folder.glob(f"*{SIDECAR_SUFFIX}"):
        download = sidecar.with_name(sidecar.name.removesuffix(SIDECAR_SUFFIX))
        if not download.is_file():
            continue
        try:
            run = json.loads(sidecar.read_text()).get("run")
        except (OSError, ValueError):
            run = None
        # A download from before runs were marked counts as its modification time's run.
        runs[download] = run or datetime.fromtimestamp(download.stat().st_mtime, UTC).strftime(
            "%Y%m%dT%H%M%S"
        )
    newest = sorted(set(runs.values()), reverse=True)[:keep]
    for download, run in sorted(runs.items()):
        if run in newest:
            result.kept.append(download)
            result.kept_bytes += _size(download)
        else:
            sidecar = download.with_name(download.name + SIDECAR_SUFFIX)
            result.freed.extend([download, sidecar])
            result.freed_bytes += _size(download) + _size(sidecar)
    return result


def prune(folder: Path, keep: int | None = None) -> Retention:
    """Free what `plan` frees in `folder`; returns what it freed."""
    result = plan(folder, keep)
    for path in result.freed:
        size = _size(path)
        path.unlink(missing_ok=True)
        log.info("%s: retention freed %s (%s)", result.source, path, size_text(size))
    return result


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
