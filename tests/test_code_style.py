"""The code passes ruff (lint and format), as configured in pyproject.toml."""

import subprocess
import sys
from pathlib import Path

from medmirror.settings import PROJECT_DIR

RUFF = Path(sys.executable).parent / "ruff"


def test_ruff_lint_passes():
    result = subprocess.run([RUFF, "check", "."], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_ruff_format_is_applied():
    result = subprocess.run(
        [RUFF, "format", "--check", "."], cwd=PROJECT_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
