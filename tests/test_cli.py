"""`medmirror demo`, `status` and `refresh` as a user types them."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from extract.landing import pipeline_for
from medmirror.settings import ConnectionInfo
from tests.conftest import SAMPLES, free_port, query

MEDMIRROR = Path(sys.executable).parent / "medmirror"


def medmirror(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MEDMIRROR, *args],
        env=dict(env or os.environ, COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def new_user(prefect_server, reachable_tmp: Path) -> Iterator[dict[str, str]]:
    """The environment of a new user: no database URL, a data folder of their own, so
    `medmirror` starts its embedded PostgreSQL there and connects with its own roles (the
    loader, the transformer: each with only its privileges), as after the README's install."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not (name.startswith("MEDMIRROR_") and name.endswith("_URL"))
        and not name.startswith("MEDMIRROR_DB_")
    }
    env.update(MEDMIRROR_DATA_DIR=str(reachable_tmp / "data"), MEDMIRROR_DB_PORT=str(free_port()))
    try:
        yield env
    finally:
        medmirror("db", "stop", env=env)


def owner_of(env: dict[str, str]) -> ConnectionInfo:
    """The embedded warehouse's owner connection, as `medmirror db url` prints it."""
    printed = medmirror("db", "url", "--role", "owner", env=env)
    assert printed.returncode == 0, printed.stderr
    return ConnectionInfo.from_url(printed.stdout.strip().splitlines()[-1])


def bulk_cursor(connection, scratch: Path) -> str:
    """The bulk cursor as committed in the warehouse (read back by a fresh pipeline)."""
    pipeline = pipeline_for("clinicaltrials", connection, scratch / "fresh-pipeline")
    pipeline.sync_destination()
    return pipeline.state["sources"]["clinicaltrials"]["resources"]["studies_bulk"]["since"]


DEMO_MARTS = {
    "clinical_trials": "19",
    "trial_conditions": "51",
    "trial_locations": "13",
    "trial_outcomes": "37",
    "trial_articles": "23",
    "orange_book_products": "44,949",
    "pubmed_articles": "90",
    "article_authors": "699",
    "article_chemicals": "66",
    "drugs": "6",
    "drug_formulations": "13",
    "adverse_event_reports": "200",
    "drug_reaction_signals": "4",
    "adverse_event_indications": "356",
    "drug_reaction_signals_by_quarter": "6",
    "drug_label_versions": "6",
    "health_topics": "2",
    "food_items": "12",
    "icd10cm_codes": "95,358",
    "hcpcs_codes": "6,800",
    "exercises": "873",
    "county_health": "20",
    "places_measures": "740",
}


def mart_rows(output: str, mart: str) -> str | None:
    """The rows the demo's summary table prints for `mart`."""
    # A number, not a date: the status table names a source (`exercises`) as its mart is
    # named, with the date it was loaded.
    found = re.search(rf"\b{mart}\s+│\s+([\d,]+)(?![\d,-])", output)
    return found.group(1) if found else None


@pytest.mark.long
def test_demo_builds_the_marts_and_a_second_run_is_incremental(new_user, tmp_path: Path):
    first = medmirror("demo", env=new_user)

    assert first.returncode == 0, first.stderr
    # dbt's hundreds of node lines are one summary line (a progress line on a terminal).
    assert "START sql" not in first.stdout + first.stderr
    assert re.search(r"dbt build: \d+ nodes, 0 failed", first.stderr)
    # Every source with bundled samples, from its real files (FoodData's download is
    # constructed from real API records).
    assert {mart: mart_rows(first.stdout, mart) for mart in DEMO_MARTS} == DEMO_MARTS
    assert "NCT05105685" in first.stdout  # a top hit of the example search
    assert "fresh" in first.stdout
    database = owner_of(new_user)
    for command in ("medmirror export", "medmirror sql", "medmirror api", "medmirror mcp"):
        assert command in first.stdout  # where to go next
    # PubMed's update file and FAERS 2017Q2 land after their first release: the feed
    # lists what they changed, each source's first refresh as one row.
    feed = dict(
        query(
            database,
            "select source || ' ' || change_type, count(*) from marts.changes group by 1",
        )
    )
    assert feed["faers signal_over_threshold"] == 1  # risperidone, gynaecomastia
    assert feed["pubmed new"] > 0
    assert all(feed[f"{source} initial_load"] == 1 for source in ("clinicaltrials", "pubmed"))
    raw_after_first = query(database, "select count(*) from raw_clinicaltrials.studies")
    assert bulk_cursor(database, tmp_path) == "2022-11-21"  # the newest study landed

    second = medmirror("demo", env=new_user)

    assert second.returncode == 0, second.stderr
    assert "landed 0 rows" in second.stderr
    assert query(database, "select count(*) from raw_clinicaltrials.studies") == raw_after_first
    assert query(database, "select count(*) from marts.clinical_trials") == [(19,)]


def test_status_before_anything_landed(new_database):
    status = medmirror("status")

    assert status.returncode == 0, status.stderr
    assert "never loaded" in status.stdout
    assert "not built" in status.stdout


def test_bulk_goes_with_exactly_one_source(database):
    refused = medmirror("refresh", "--bulk", "samples/clinicaltrials")

    assert refused.returncode == 1
    assert "--bulk goes with exactly one --source" in refused.stderr


def test_quarters_goes_with_faers_and_not_with_bulk(database):
    for arguments in (["--source", "hcpcs"], ["--source", "faers", "--bulk", "samples/faers"]):
        refused = medmirror("refresh", "--quarters", *arguments)

        assert refused.returncode == 1
        assert "--quarters goes with --source faers, without --bulk" in refused.stderr


def test_what_a_command_writes_is_private_to_its_user(database, tmp_path: Path):
    """A refresh from the shell (Prefect's own database in the data folder): every folder
    it makes is 0700, every file 0600."""
    data = tmp_path / "private-data"
    env = dict(os.environ, COLUMNS="200", MEDMIRROR_DATA_DIR=str(data))
    env.pop("PREFECT_HOME", None)  # Prefect's files go in the data folder, as for a user
    env.pop("PREFECT_API_URL", None)  # its own temporary server, not the tests' shared one
    done = subprocess.run(
        [MEDMIRROR, "refresh", "--source", "clinicaltrials", "--no-dbt"]
        + ["--bulk", str(SAMPLES / "clinicaltrials")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, done.stderr
    assert (data / "prefect" / "prefect.db").is_file()
    written = [data, *data.rglob("*")]
    assert len(written) > 10
    assert [
        f"{stat.filemode(path.lstat().st_mode)} {path}"
        for path in written
        if path.lstat().st_mode & 0o077
    ] == []
