"""Bulk files (extract/bulk.py): decompression limits, where downloads go and when a copy
is reused. The sources' own tests (and tests/hostile) run the same through each source."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest
from werkzeug import Request, Response

from extract.bulk import BulkMember, download, iter_members
from extract.errors import MalformedInput
from extract.limits import TooLarge, limits

RELEASE = b'{"results": []}' * 1000


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setenv("BULK__MAX_MEMBER_BYTES", str(1 << 20))
    monkeypatch.setenv("BULK__MAX_DOCUMENT_BYTES", str(64 << 10))
    monkeypatch.setenv("BULK__MAX_FILE_BYTES", str(3 << 20))
    assert limits().max_member_bytes == 1 << 20


def test_a_gz_past_the_member_limit_is_refused_while_it_streams(small_limits, tmp_path: Path):
    path = tmp_path / "big.json.gz"
    path.write_bytes(gzip.compress(bytes(range(256)) * 8192))  # 2 MiB, barely compressible
    (member,) = iter_members(path, source="test", suffixes=(".json",))
    with member.open() as stream, pytest.raises(TooLarge, match="bulk.max_member_bytes"):
        while stream.read(1 << 16):
            pass


def test_a_document_read_whole_stops_at_its_limit(small_limits, tmp_path: Path):
    path = tmp_path / "doc.json"
    path.write_bytes(b" " * (100 << 10))
    with pytest.raises(MalformedInput, match="larger than 65,536 bytes"):
        BulkMember(uri=str(path), path=path).read("test")
    assert BulkMember(uri=str(path), path=path).read("test", limit=200 << 10).startswith(b" ")


def test_the_members_of_one_archive_together_are_capped(small_limits, tmp_path: Path):
    path = tmp_path / "release.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for number in range(4):  # each under the member limit, 4 MiB together
            archive.writestr(f"part{number}.json", bytes(range(256)) * 4000)
    outcomes = []
    for member in iter_members(path, source="test", suffixes=(".json",)):
        try:
            member.read("test", limit=2 << 20)
            outcomes.append("read")
        except MalformedInput as refused:
            outcomes.append(refused.problem)
    assert outcomes[:3] == ["read", "read", "read"]
    assert "read so far decompress to 4,096,000 bytes" in outcomes[3]


def serve_release(httpserver) -> list[str]:
    asked: list[str] = []

    def answer(request: Request) -> Response:
        asked.append(request.path)
        return Response(RELEASE, content_type="application/zip")

    httpserver.expect_request("/files/release.zip").respond_with_handler(answer)
    return asked


def test_a_download_is_reused_only_while_its_checksum_matches(httpserver, tmp_path: Path):
    asked = serve_release(httpserver)
    url = httpserver.url_for("/files/release.zip")

    first = download(url, source="test", download_dir=tmp_path)
    again = download(url, source="test", download_dir=tmp_path)
    assert asked == ["/files/release.zip"] and again == first

    first.write_bytes(RELEASE[:-1] + b"X")  # same size, other bytes
    repaired = download(url, source="test", download_dir=tmp_path)
    assert len(asked) == 2 and repaired.read_bytes() == RELEASE

    (tmp_path / "test" / "other.zip").write_bytes(RELEASE)  # put there by someone else
    download(url, source="test", download_dir=tmp_path, name="other.zip")
    assert len(asked) == 3  # no checksum of ours: fetched


@pytest.mark.parametrize("name", ["../escaped.zip", "../../escaped.zip", "/tmp/escaped.zip"])
def test_a_download_name_never_leads_outside_the_downloads(httpserver, tmp_path: Path, name):
    asked = serve_release(httpserver)
    downloads = tmp_path / "data" / "downloads"
    with pytest.raises(MalformedInput, match="leads outside"):
        download(
            httpserver.url_for("/files/release.zip"),
            source="test",
            download_dir=downloads,
            name=name,
        )
    assert asked == []
    assert not list(tmp_path.rglob("escaped.zip")) and not Path("/tmp/escaped.zip").exists()
