"""Exercises extract: the real dlt pipeline into a real PostgreSQL, from free-exercise-db's
real published file (samples/exercises/, exactly as published), as a bulk file and over
HTTP on 127.0.0.1 in place of the published URL, and from variants of it the tests make
(an exercise withdrawn, one changed, the file cut short)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from extract.bulk import NoReleaseFiles, Outcome
from medmirror.settings import SAMPLES_DIR
from tests.conftest import land_source, query

RELEASE = SAMPLES_DIR / "exercises" / "free-exercise-db_exercises.json"
EXERCISES = 873  # objects in the published array


def published() -> list[dict]:
    return json.loads(RELEASE.read_bytes())


def newer_release(folder: Path) -> Path:
    """The real file with `3_4_Sit-Up` withdrawn and `Barbell_Squat`'s level changed."""
    exercises = [exercise for exercise in published() if exercise["id"] != "3_4_Sit-Up"]
    for exercise in exercises:
        if exercise["id"] == "Barbell_Squat":
            exercise["level"] = "expert"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "exercises.json"
    target.write_text(json.dumps(exercises, indent=2))
    return target


def test_the_real_file_lands_every_exercise_as_published(database):
    assert len(published()) == EXERCISES

    result = land_source(database, "exercises", bulk_location=str(RELEASE))

    assert result.rows == {"exercises": EXERCISES}
    assert result.rejected == 0
    assert [offered.outcome for offered in result.files.files.values()] == [Outcome.LANDED]
    ((count, ids, releases, deleted),) = query(
        database,
        "select count(*), count(distinct exercise_id), count(distinct release), "
        "count(*) filter (where deleted) from raw_exercises.exercises",
    )
    assert (count, ids, releases, deleted) == (EXERCISES, EXERCISES, 1, 0)
    ((sit_up,),) = query(
        database, "select record from raw_exercises.exercises where exercise_id = '3_4_Sit-Up'"
    )
    assert sit_up == published()[0]  # the object unchanged
    assert sit_up["primaryMuscles"] == ["abdominals"]


def test_the_same_release_anywhere_lands_nothing_again(database, tmp_path: Path):
    land_source(database, "exercises", bulk_location=str(RELEASE))
    elsewhere = tmp_path / "copy" / "renamed.json"
    elsewhere.parent.mkdir()
    shutil.copy(RELEASE, elsewhere)

    again = land_source(database, "exercises", bulk_location=str(RELEASE))
    copied = land_source(database, "exercises", bulk_location=str(elsewhere.parent))

    assert again.total_rows == copied.total_rows == 0
    assert [offered.outcome for offered in copied.files.files.values()] == [Outcome.ALREADY_LANDED]
    assert query(database, "select count(*) from raw_exercises.exercises") == [(EXERCISES,)]


def test_the_published_url_is_fetched_every_run_and_a_withdrawn_exercise_is_a_deletion(
    database, httpserver, tmp_path: Path
):
    newer = newer_release(tmp_path / "newer")
    served = [RELEASE.read_bytes(), RELEASE.read_bytes(), newer.read_bytes()]
    for body in served:
        httpserver.expect_ordered_request("/dist/exercises.json").respond_with_data(
            body, content_type="text/plain"
        )
    url = httpserver.url_for("/dist/exercises.json")

    first = land_source(database, "exercises", url=url)
    unchanged = land_source(database, "exercises", url=url)
    changed = land_source(database, "exercises", url=url)

    assert len(httpserver.log) == 3  # asked every run: the URL's content changes
    assert first.rows == {"exercises": EXERCISES}
    assert unchanged.total_rows == 0
    assert changed.rows == {"exercises": 2}  # the changed exercise and the withdrawn one
    assert query(
        database,
        "select exercise_id, deleted, record ->> 'level' from raw_exercises.exercises "
        "where release = (select release from raw_exercises.exercises "
        "order by release_seen_at desc limit 1) order by exercise_id",
    ) == [("3_4_Sit-Up", True, None), ("Barbell_Squat", False, "expert")]


def test_files_are_recognised_by_layout_and_a_broken_one_is_rejected(database, tmp_path: Path):
    folder = tmp_path / "offered"
    folder.mkdir()
    shutil.copy(RELEASE, folder / "b_dataset_named_anything.json")
    (folder / "a_readme.md").write_text("# free-exercise-db\n")
    (folder / "c_other.json").write_text('[{"id": 1, "title": "not an exercise"}]')
    # The real file cut short: laid out as the dataset, but not JSON to the end.
    (folder / "d_truncated.json").write_bytes(RELEASE.read_bytes()[:50_000])

    result = land_source(database, "exercises", bulk_location=str(folder))

    outcomes = {Path(uri).name: offered.outcome for uri, offered in result.files.files.items()}
    assert outcomes == {
        "a_readme.md": Outcome.NOT_RELEASE_FILE,
        "b_dataset_named_anything.json": Outcome.LANDED,
        "c_other.json": Outcome.NOT_RELEASE_FILE,
        "d_truncated.json": Outcome.REJECTED,
    }
    assert result.rows == {"exercises": EXERCISES}
    ((problem,),) = query(database, "select problem from raw_exercises.rejects")
    assert problem.startswith("not JSON")


def test_an_element_without_its_id_is_rejected_and_the_rest_lands(database, tmp_path: Path):
    exercises = published()
    del exercises[5]["id"]
    target = tmp_path / "exercises.json"
    target.write_text(json.dumps(exercises))

    result = land_source(database, "exercises", bulk_location=str(target))

    assert result.rows == {"exercises": EXERCISES - 1}
    assert query(database, "select problem, position from raw_exercises.rejects") == [
        ("an exercise without its id or name", "element 5")
    ]


def test_a_location_without_the_dataset_fails_listing_what_it_saw(database, tmp_path: Path):
    (tmp_path / "notes.txt").write_text("exercises")

    with pytest.raises(NoReleaseFiles, match="notes.txt"):
        land_source(database, "exercises", bulk_location=str(tmp_path))
