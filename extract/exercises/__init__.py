"""Exercises: the free-exercise-db dataset (public domain), a table open medical mirrors
keep next to health topics and foods.

The dataset is one JSON array of exercises (`dist/exercises.json` of
github.com/yuhonas/free-exercise-db, about 870 exercises, 1 MB): id, name, force, level,
mechanic, equipment, primary and secondary muscles, instructions (steps), category and
picture paths. It has no API, version or date of its own.

One resource, `exercises`, reads the published file (`url`, fetched again every run) or
with `bulk_location` a file, folder, zip or URL of the dataset, and lands
`raw_exercises.exercises`: one row per exercise new or changed since the release landed
before (key `exercise_id`; `release`, the first 16 hex digits of the file's SHA-256;
cursor `release_seen_at`, when the mirror first read it), the exercise object unchanged
as `record`. An exercise the newer release no longer holds lands as a deletion notice.

Every file offered is accounted for (`BulkLedger`): a release file is recognised by its
layout (a JSON array of objects with `id`, `name`, `primaryMuscles`, `instructions`),
whatever its name; a release already landed (the same content, at any place) lands
nothing. Releases at one location land in the order offered (file names sorted), one per
window. A file that is not JSON, or an element without its `id` or `name`, goes to
`raw_exercises.rejects` (with its position) and the rest lands.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dlt
import orjson
from dlt.sources import DltResource

from extract.bulk import BulkLedger, BulkMember, resolve_location
from extract.errors import MalformedInput
from extract.exercises import settings
from extract.exercises.helpers import (
    EXERCISES,
    Release,
    fingerprint,
    looks_like_release,
    read_release,
)
from extract.landing import MORE_WINDOWS, batches, reject
from extract.spec import SearchExample, SourceSpec
from medmirror.settings import SAMPLES_DIR

log = logging.getLogger(__name__)

TABLE = EXERCISES.name


@dlt.source(name=settings.SOURCE)
def exercises(
    download_dir: str,
    url: str = settings.URL,
    bulk_location: str | None = None,
) -> DltResource:
    """The dataset published at `url`, or the release files at `bulk_location`."""
    return exercise_releases(
        bulk_location or url, download_dir=download_dir, refetch=not bulk_location
    )


# No `columns` here: it lands two tables, each item bound to its own by `to_table`.
@dlt.resource(name="exercises", table_name=TABLE, write_disposition="append")
def exercise_releases(location: str, download_dir: str, refetch: bool) -> Iterator[Any]:
    """The next release at `location` not landed yet: its new and changed exercises and
    the deletion notices of those it no longer holds, one release per window."""
    state = dlt.current.resource_state()
    ledger = BulkLedger(settings.SOURCE, state)
    current: dict[str, str] = state.setdefault("current", {})  # exercise id -> fingerprint
    state[MORE_WINDOWS] = False
    name = None
    if urlsplit(location).scheme in ("http", "https"):
        name = Path(urlsplit(location).path).name or "exercises.json"
    path = resolve_location(
        location,
        source=settings.SOURCE,
        download_dir=Path(download_dir),
        name=name,
        refetch=refetch,
    )
    done_one = False
    for member in ledger.offered(path):
        if member.problem is None and not looks_like_release(member):
            ledger.not_release_file(member, "not a JSON array of exercises")
            continue
        if ledger.was_rejected(member):
            continue
        try:
            release = read_release(member)
        except MalformedInput as bad:
            ledger.reject(member, bad)
            yield reject(bad)
            continue
        if ledger.has_landed(release.release):
            ledger.already_landed(member, release.release)
            continue
        if done_one:  # another release follows: commit this window first
            state[MORE_WINDOWS] = True
            return
        done_one = True
        yield from _land_release(member, release, current, ledger)


def _land_release(
    member: BulkMember, release: Release, current: dict[str, str], ledger: BulkLedger
) -> Iterator[Any]:
    changed, withdrawn = yield from batches(
        _release_items(member, release, current), EXERCISES, bind=True
    )
    log.info(
        "%s: release %s from %s: %d exercises, %d new or changed, %d withdrawn",
        settings.SOURCE,
        release.release,
        member.uri,
        len(release.exercises),
        changed,
        withdrawn,
    )
    ledger.landed_file(member, release.release, changed + withdrawn)


def _release_items(
    member: BulkMember, release: Release, current: dict[str, str]
) -> Generator[Any, None, tuple[int, int]]:
    """A reject for each problem of the release, the rows of the exercises new or changed
    since `current` (their fingerprints, kept up to date), and a deletion row for each
    it no longer holds; returns how many changed and how many were withdrawn."""
    for problem, position in release.problems:
        yield reject(MalformedInput(settings.SOURCE, member.uri, problem), position)
    seen_at = datetime.now(UTC)
    changed = 0
    for exercise_id, exercise in release.exercises.items():
        digest = fingerprint(exercise)
        if current.get(exercise_id) == digest:
            continue
        current[exercise_id] = digest
        changed += 1
        yield _row(exercise_id, release, seen_at, member.uri, orjson.dumps(exercise).decode())
    withdrawn = sorted(set(current) - set(release.exercises))
    for exercise_id in withdrawn:
        del current[exercise_id]
        yield _row(exercise_id, release, seen_at, member.uri, None)
    return changed, len(withdrawn)


def _row(
    exercise_id: str, release: Release, seen_at: datetime, uri: str, record: str | None
) -> dict[str, Any]:
    return {
        "exercise_id": exercise_id,
        "release": release.release,
        "release_seen_at": seen_at,
        "record": record,
        "source_uri": uri,
        "deleted": record is None,
    }


# The dataset changes a few times a year: the monthly run fetches it and lands what changed.
SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=exercises,  # without a location: the published JSON at `url`
    cadence="monthly",
    raw_tables=(EXERCISES,),
    status_table=EXERCISES.name,
    cursor_column="release_seen_at",
    marts=("exercises",),
    samples=SAMPLES_DIR / "exercises",
    search=SearchExample(
        mart="exercises",
        query="hamstrings",
        shown=("exercise_id", "exercise_name", "level", "equipment"),
    ),
)
