"""The free-exercise-db release file: a JSON array of exercise objects, recognised by its
layout, and the rows `raw_exercises.exercises` lands from it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

from extract.bulk import BulkMember, peek
from extract.errors import MalformedInput
from extract.exercises.settings import LAYOUT_FIELDS, SOURCE
from extract.raw import RawTable

# `raw_exercises.exercises`: one row per new or changed exercise of a release, and one
# deletion notice per exercise a newer release no longer holds.
EXERCISES = RawTable(
    "exercises",
    (
        pa.field("exercise_id", pa.string(), nullable=False),
        # The release it came in: the first 16 hex digits of the file's SHA-256 (the
        # dataset has no version or date of its own).
        pa.field("release", pa.string(), nullable=False),
        # When the mirror first read that release (the cursor `status` reports).
        pa.field("release_seen_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ),
    indexes=(("exercise_id",),),
)


def looks_like_release(member: BulkMember) -> bool:
    """Whether the member is laid out as the dataset: a JSON array whose first object has
    the exercise fields (`id`, `name`, `primaryMuscles`, `instructions`)."""
    head = peek(member, 16 * 1024).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"["):
        return False
    first = head.split(b"}", 1)[0]
    return all(f'"{name}"'.encode() in first for name in LAYOUT_FIELDS)


@dataclass
class Release:
    """One release file read whole: its identity and its exercises by id."""

    release: str
    exercises: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (problem, position)


def read_release(member: BulkMember) -> Release:
    """The exercises of a release file (about 1 MB: read whole). Raises `MalformedInput`
    when it is not JSON or not an array; an element without an `id` or `name`, or an `id`
    given twice, is a problem of its own (its position in the array) and the rest land."""
    content = member.read(SOURCE)
    release = Release(hashlib.sha256(content).hexdigest()[:16])
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as bad:
        raise MalformedInput(SOURCE, member.uri, f"not JSON: {bad}") from None
    if not isinstance(document, list):
        raise MalformedInput(SOURCE, member.uri, "not a JSON array of exercises")
    for position, exercise in enumerate(document):
        where = f"element {position}"
        if not isinstance(exercise, dict):
            release.problems.append(("an element that is not an object", where))
            continue
        exercise_id = exercise.get("id")
        if not isinstance(exercise_id, str) or not exercise_id or not exercise.get("name"):
            release.problems.append(("an exercise without its id or name", where))
            continue
        if exercise_id in release.exercises:
            release.problems.append((f"exercise {exercise_id} given a second time", where))
            continue
        release.exercises[exercise_id] = exercise
    if not release.exercises:
        raise MalformedInput(SOURCE, member.uri, "holds no exercise")
    return release


def fingerprint(exercise: dict[str, Any]) -> str:
    """What an exercise says, as a short digest (a changed exercise lands again)."""
    return hashlib.sha256(orjson.dumps(exercise, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
