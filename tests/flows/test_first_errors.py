"""The first errors a new user meets: each is one line naming the thing and what to do,
with no traceback, and comes before the Prefect server starts (a refresh that got that far
would print Prefect's "temporary server" line)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extract.errors import HostUnreachable
from extract.http import PublisherClient
from extract.resilience import Guards
from flows.cli import app
from flows.search import search
from tests.conftest import free_port

MEDMIRROR = Path(sys.executable).parent / "medmirror"


def medmirror(*args: str) -> tuple[int, str]:
    """Exit code and everything the command wrote, run in this process."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(autouse=True)
def _wide(wide_terminal) -> None:
    """One line is one line however wide the worker's terminal is."""


def assert_one_line(output: str, *expected: str) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: "), output
    for part in expected:
        assert part in lines[0]
    assert "Traceback" not in output
    assert "temporary server" not in output  # Prefect never started


def test_an_unknown_source_lists_the_known_ones():
    code, output = medmirror("refresh", "--source", "clinicaltrails")

    assert code == 1
    assert_one_line(output, "unknown source 'clinicaltrails'", "clinicaltrials", "--source")


def test_a_missing_bulk_path_is_named(tmp_path: Path):
    missing = tmp_path / "ctg-studies.json.zip"

    code, output = medmirror("refresh", "-s", "clinicaltrials", "--bulk", str(missing))

    assert code == 1
    assert_one_line(output, f"--bulk {missing}: no such file or folder")


def test_an_archive_that_is_not_one_is_refused(tmp_path: Path):
    """An error page saved under the release's name (what a failed download leaves)."""
    page = tmp_path / "EOBZIP_2026_11.zip"
    page.write_bytes(b"<!DOCTYPE html><html><body>Access Denied</body></html>")

    code, output = medmirror("refresh", "-s", "orangebook", "--bulk", str(page))

    assert code == 1
    assert_one_line(output, f"--bulk {page}: not a zip archive", "fetch it again")


def test_an_unreachable_database_names_its_setting(monkeypatch: pytest.MonkeyPatch):
    url = f"postgresql://medmirror:secret@127.0.0.1:{free_port()}/medmirror"
    monkeypatch.setenv("MEDMIRROR_DATABASE_URL", url)

    code, output = medmirror("refresh", "-s", "clinicaltrials")

    assert code == 1
    assert_one_line(output, "cannot reach the database", "MEDMIRROR_DATABASE_URL", "start")
    assert "secret" not in output


def test_any_command_on_a_stopped_database_says_so_in_one_line(tmp_path: Path):
    """The command line's own handler: an error no command expected, in one line, and
    its traceback with --debug."""
    env = dict(
        os.environ,
        MEDMIRROR_DATABASE_URL=f"postgresql://medmirror:x@127.0.0.1:{free_port()}/medmirror",
        MEDMIRROR_DATA_DIR=str(tmp_path / "data"),
        COLUMNS="300",
    )
    plain = subprocess.run(
        [MEDMIRROR, "status"], env=env, capture_output=True, text=True, timeout=120
    )
    debug = subprocess.run(
        [MEDMIRROR, "--debug", "status"], env=env, capture_output=True, text=True, timeout=120
    )

    assert plain.returncode == 1
    assert_one_line(plain.stderr, "the database did not answer", "Connection refused")
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr


def test_a_taken_port_says_medmirror_db_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MEDMIRROR_DATABASE_URL", raising=False)
    monkeypatch.setenv("MEDMIRROR_DATA_DIR", str(tmp_path / "data"))
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        monkeypatch.setenv("MEDMIRROR_DB_PORT", str(port))

        refreshed = medmirror("refresh", "-s", "clinicaltrials")
        started = medmirror("db", "start")

    for code, output in (refreshed, started):
        assert code == 1
        assert_one_line(output, f"port {port} on 127.0.0.1 is taken", "MEDMIRROR_DB_PORT=")
    assert not (tmp_path / "data" / "postgres" / "PG_VERSION").exists()  # nothing created


def test_an_unknown_mart_lists_the_searchable_ones():
    code, output = medmirror("search", "aspirin", "--mart", "drug")

    assert code == 1
    assert_one_line(output, "drug is not a searchable mart", "drugs", "clinical_trials")


@pytest.mark.parametrize("words", ["", "   ", "the", "the and of"])
def test_a_query_without_words_finds_nothing(database, words: str):
    assert search(database, "clinical_trials", words, ("nct_id",)) == []
    code, output = medmirror("search", words)
    assert code == 0, output
    assert re.search(r"0 best\s+hits", output), output


def test_a_host_name_that_does_not_resolve_is_not_retried():
    """`.invalid` never resolves (RFC 2606): one attempt, then an error that Prefect does
    not retry either."""
    guards = Guards(clock=lambda: 0.0, sleep=lambda seconds: None)
    client = PublisherClient("clinicaltrials", guards=guards)
    url = "https://clinicaltrials.medmirror.invalid/api/v2/studies"

    with pytest.raises(HostUnreachable) as failed:
        client.get(url, what="page 1")

    assert "clinicaltrials.medmirror.invalid does not resolve" in str(failed.value)
    assert not failed.value.retryable
    assert guards.breakers[("clinicaltrials.medmirror.invalid", 443)].failures == 1
