"""Constants of the exercises source (each can be overridden in `.dlt/config.toml` under
`[sources.exercises]` or by `SOURCES__EXERCISES__<NAME>`)."""

SOURCE = "exercises"
# free-exercise-db's published dataset: every exercise in one JSON array, rebuilt by its
# maintainers from the exercise folders of the repository (`make dist/exercises.json`).
# The URL always serves the current file: it is fetched again on every run and lands only
# when its content changed.
URL = "https://raw.githubusercontent.com/yuhonas/free-exercise-db/main/dist/exercises.json"
# Where the dataset's pictures are published (`images` holds paths under it).
IMAGE_BASE_URL = "https://raw.githubusercontent.com/yuhonas/free-exercise-db/main/exercises/"
# The fields that make an exercise of this dataset (a JSON array of objects with them is
# recognised as a release file, whatever its name).
LAYOUT_FIELDS = ("id", "name", "primaryMuscles", "instructions")
