"""The code passes ruff (lint and format, as configured in pyproject.toml) and the dbt
project's SQL passes sqlfluff (as configured in .sqlfluff)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medmirror.settings import PROJECT_DIR

RUFF = Path(sys.executable).parent / "ruff"
SQLFLUFF = Path(sys.executable).parent / "sqlfluff"


def test_ruff_lint_passes():
    result = subprocess.run([RUFF, "check", "."], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_ruff_format_is_applied():
    result = subprocess.run(
        [RUFF, "format", "--check", "."], cwd=PROJECT_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.long
def test_sqlfluff_passes_on_the_dbt_project(new_database, tmp_path: Path):
    """The dbt project's SQL keeps the style in .sqlfluff (dbt Labs' style), linted through
    dbt's own templater, which compiles each model against a warehouse (an incremental
    model asks whether its table exists): the worker's new warehouse here."""
    environment = {
        **os.environ,
        # The repository's profiles.yml, as a person linting by hand uses it.
        "MEDMIRROR_DB_HOST": new_database.host,
        "MEDMIRROR_DB_PORT": str(new_database.port),
        "MEDMIRROR_DB_USER": new_database.user,
        "MEDMIRROR_DB_PASSWORD": new_database.password,
        "MEDMIRROR_DB_NAME": new_database.database,
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    # One process: a second one loads dbt and the project again (the whole lint took
    # 137 CPU-seconds in two processes, 95 in one); the suite keeps both cores busy anyway.
    result = subprocess.run(
        [SQLFLUFF, "lint", "dbt_project", "--processes", "1", "--nofail", "--format", "json"],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip().startswith("["), result.stderr[-3000:]
    found = [
        f"{file['filepath']}:{violation['start_line_no']} {violation['code']} "
        f"{violation['description']}"
        for file in json.loads(result.stdout)
        for violation in file["violations"]
    ]
    assert found == [], "\n".join(found)
