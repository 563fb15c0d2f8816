"""marts.exercises: real dbt on what the real extract landed from free-exercise-db's
published file (samples/exercises/), and a newer release made from it in the test."""

from __future__ import annotations

from pathlib import Path

from flows.dbt_runner import build_sources
from flows.search import search
from tests.conftest import land_source, query
from tests.extract.test_exercises import EXERCISES, newer_release, published


def test_every_exercise_is_one_searchable_row(samples_database):
    database = samples_database("exercises")  # the published file landed and built

    assert query(database, "select count(*) from marts.exercises") == [(EXERCISES,)]
    (row,) = query(
        database,
        "select exercise_name, level, category, equipment, force, mechanic, primary_muscles, "
        "secondary_muscles, instructions, image_urls[1] from marts.exercises "
        "where exercise_id = 'Barbell_Squat'",
    )
    squat = next(exercise for exercise in published() if exercise["id"] == "Barbell_Squat")
    assert row == (
        squat["name"],
        squat["level"],
        squat["category"],
        squat["equipment"],
        squat["force"],
        squat["mechanic"],
        squat["primaryMuscles"],
        squat["secondaryMuscles"],
        "\n".join(squat["instructions"]),
        "https://raw.githubusercontent.com/yuhonas/free-exercise-db/main/exercises/"
        + squat["images"][0],
    )
    hits = search(database, "exercises", "hamstrings", ["exercise_id", "primary_muscles"])
    assert len(hits) == 20
    assert all(
        "hamstrings" in hit["primary_muscles"] for hit in hits[:5]
    )  # muscles rank above instructions
    squats = search(database, "exercises", "barbell squat", ["exercise_name"])
    assert all("Squat" in hit["exercise_name"] for hit in squats[:5])
    assert "Barbell Squat" in [hit["exercise_name"] for hit in squats[:5]]


def test_a_withdrawn_exercise_leaves_the_mart(samples_database, tmp_path: Path):
    database = samples_database("exercises")  # the published file landed and built
    land_source(database, "exercises", bulk_location=str(newer_release(tmp_path / "newer")))

    build_sources(database, ["exercises"])

    assert query(database, "select count(*) from marts.exercises") == [(EXERCISES - 1,)]
    assert query(
        database, "select count(*) from marts.exercises where exercise_id = '3_4_Sit-Up'"
    ) == [(0,)]
    assert query(
        database, "select level from marts.exercises where exercise_id = 'Barbell_Squat'"
    ) == [("expert",)]
