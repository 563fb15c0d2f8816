"""`medmirror storage`, download retention and the disk-space check (extract/retention.py):
retention frees what `storage` said it would, a download that cannot fit stops first."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from extract.bulk import download
from extract.retention import NoRoom, plan, prune
from flows.cli import app
from medmirror.settings import load_settings
from tests.conftest import SAMPLES, land_source

RELEASE = SAMPLES / "orangebook" / "orange_book_2024-05.zip"


def downloaded(folder: Path, name: str, run: str, content: bytes) -> Path:
    """A download as `extract.bulk.download` leaves it: the file and its checksum file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    (folder / f"{name}.sha256.json").write_text(
        json.dumps({"url": f"https://example.org/{name}", "bytes": len(content), "run": run})
    )
    return path


def test_retention_keeps_the_latest_release_and_frees_what_it_planned(tmp_path: Path):
    folder = tmp_path / "downloads" / "faers"
    old_a = downloaded(folder, "faers_ascii_2024q1.zip", "20260101T050000-aa", b"a" * 1000)
    old_b = downloaded(folder, "faers_ascii_2024q2.zip", "20260101T050000-aa", b"b" * 2000)
    new = downloaded(folder, "faers_ascii_2024q3.zip", "20260401T050000-bb", b"c" * 3000)

    planned = plan(folder)
    assert planned.kept == [new]
    assert sorted(planned.freed) == sorted(
        [old_a, old_b, *(p.with_name(p.name + ".sha256.json") for p in (old_a, old_b))]
    )
    freed = prune(folder)

    assert freed.freed_bytes == planned.freed_bytes > 3000
    assert sorted(p.name for p in folder.iterdir()) == [
        "faers_ascii_2024q3.zip",
        "faers_ascii_2024q3.zip.sha256.json",
    ]
    assert plan(folder, keep=2).freed == []


def test_storage_prints_sizes_versions_and_what_retention_frees(
    database, tmp_path: Path, wide_terminal
):
    land_source(database, "clinicaltrials", bulk_location=str(SAMPLES / "clinicaltrials"))
    land_source(
        database, "clinicaltrials", bulk_location=str(SAMPLES / "clinicaltrials"), full=True
    )
    folder = load_settings().data_dir / "downloads" / "orangebook"
    downloaded(folder, "orange_book_2024-04.zip", "20260101T060000-aa", b"x" * 5000)
    downloaded(folder, "orange_book_2024-05.zip", "20260201T060000-bb", RELEASE.read_bytes())
    runner = CliRunner()

    shown = runner.invoke(app, ["storage"])

    assert shown.exit_code == 0, shown.output
    assert re.search(r"raw_clinicaltrials\s+│\s+[\d.]+ [KM]iB", shown.output)
    # 19 versions of 19 studies: the full re-sync added none.
    assert re.search(r"clinicaltrials\s+│[^│]+│\s+19\s+│\s+19\s+│", shown.output)
    said = re.search(r"retention would free (\S+ \S+) of downloads", shown.output)
    assert said and said.group(1) != "0 B", shown.output

    pruned = runner.invoke(app, ["storage", "--prune"])

    assert pruned.exit_code == 0, pruned.output
    assert f"freed {said.group(1)} of downloads" in pruned.output
    assert sorted(p.name for p in folder.iterdir()) == [
        "orange_book_2024-05.zip",
        "orange_book_2024-05.zip.sha256.json",
    ]


def test_a_download_the_disk_cannot_hold_stops_before_writing(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("DOWNLOADS__MIN_FREE_BYTES", str(1 << 60))  # more than any disk
    httpserver.expect_request("/ob.zip").respond_with_data(RELEASE.read_bytes())

    with pytest.raises(NoRoom) as refused:
        download(httpserver.url_for("/ob.zip"), source="orangebook", download_dir=tmp_path)

    message = str(refused.value)
    assert f"{tmp_path / 'orangebook'} has" in message and "free" in message
    assert "MEDMIRROR_DATA_DIR" in message
    assert not refused.value.retryable
    assert list((tmp_path / "orangebook").iterdir()) == []
