"""Failing fast and recovering by itself (extract/resilience.py through the shared client):
the circuit breaker per host, the adaptive rate, conditional release downloads. Time is a
fake clock: nothing here waits, and attempts are counted, not timed."""

from __future__ import annotations

import json
import socket
import struct
import threading
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from extract.bulk import download
from extract.errors import PublisherUnavailable
from extract.http import PublisherClient
from extract.resilience import AdaptiveRate, Guards
from tests.conftest import SAMPLES


class FakeClock:
    """Monotonic seconds that move only when slept or advanced."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class RefusingServer:
    """A replay on 127.0.0.1 that resets every connection (`refusing`) or answers 200."""

    def __init__(self) -> None:
        self.refusing = True
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.host = ("127.0.0.1", self._listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.host[1]}/api/v2/studies"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with connection:
                if self.refusing:  # RST at once: "connection reset by peer"
                    connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    continue
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
                )

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(10)
        self._listener.close()


@pytest.fixture
def refusing():
    server = RefusingServer()
    yield server
    server.stop()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """dlt retries at once (its backoff sleeps are real time)."""
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "6")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")


def test_the_breaker_opens_after_n_failures_and_closes_when_the_host_returns(
    refusing: RefusingServer, no_backoff, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("HTTP__BREAKER_FAILURES", "3")
    monkeypatch.setenv("HTTP__BREAKER_COOL_DOWN_S", "60")
    clock = FakeClock()
    guards = Guards(clock=clock, sleep=clock.sleep)
    client = PublisherClient("clinicaltrials", guards=guards)

    with pytest.raises(PublisherUnavailable) as first:
        client.get(refusing.url, what="page 1")

    # 3 connections, not the 6 attempts dlt would make: the breaker ended the retries.
    assert refusing.connections == 3
    assert f"127.0.0.1:{refusing.host[1]} failed 3 times in a row" in str(first.value)
    assert "circuit breaker open" in str(first.value)
    assert first.value.retryable
    breaker = guards.breakers[refusing.host]
    assert breaker.state == "open"

    with pytest.raises(PublisherUnavailable, match="fail at once for the next 60 s"):
        client.get(refusing.url, what="page 2")
    clock.now += 59
    with pytest.raises(PublisherUnavailable, match="fail at once for the next 1 s"):
        client.get(refusing.url, what="page 2")
    assert refusing.connections == 3  # no connection while open

    clock.now += 2  # cool-down over: one trial call, and the host is back
    refusing.refusing = False
    assert client.get(refusing.url, what="page 2").json() == {}
    assert refusing.connections == 4
    assert breaker.state == "closed"
    assert client.get(refusing.url, what="page 3").status_code == 200


def test_a_failed_trial_call_opens_the_breaker_again(
    refusing: RefusingServer, no_backoff, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("HTTP__BREAKER_FAILURES", "2")
    clock = FakeClock()
    guards = Guards(clock=clock, sleep=clock.sleep)
    client = PublisherClient("clinicaltrials", guards=guards)
    with pytest.raises(PublisherUnavailable):
        client.get(refusing.url, what="page 1")
    assert refusing.connections == 2

    clock.now += 61
    with pytest.raises(PublisherUnavailable, match="circuit breaker open"):
        client.get(refusing.url, what="page 1")

    assert refusing.connections == 3  # the one trial, then open again at once
    assert guards.breakers[refusing.host].state == "open"


def test_429_bursts_lower_the_rate_and_it_recovers(
    httpserver: HTTPServer, no_backoff, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SOURCES__CLINICALTRIALS__REQUESTS_PER_SECOND", "8")
    clock = FakeClock()
    guards = Guards(clock=clock, sleep=clock.sleep)
    client = PublisherClient("clinicaltrials", guards=guards)
    for _ in range(3):
        httpserver.expect_ordered_request("/studies").respond_with_data("slow down", status=429)
    httpserver.expect_request("/studies").respond_with_json({"studies": []})
    rate = guards.rate(("localhost", httpserver.port), 8.0)

    assert client.get_json(httpserver.url_for("/studies"), what="page 1") == {"studies": []}

    assert len(httpserver.log) == 4  # three 429s retried, then the page
    assert rate.backed_off == 3
    assert rate.rate == pytest.approx(8 / 8 + 8 / 20)  # halved three times, one good answer
    spacing = clock.slept[-1]
    assert spacing == pytest.approx(1 / 1.0)  # the request after the burst waited 1 s

    for page in range(20):
        client.get_json(httpserver.url_for("/studies"), what=f"page {page + 2}")

    assert rate.rate == 8.0  # back to the configured rate, and no higher
    assert clock.slept[-1] == pytest.approx(1 / 8)


def test_slow_answers_lower_the_rate_down_to_a_floor():
    clock = FakeClock()
    rate = AdaptiveRate(4.0, slow_after_s=30, clock=clock, sleep=clock.sleep)

    rate.answered(200, 31.0)
    assert rate.rate == 2.0
    for _ in range(10):
        rate.answered(200, 45.0)
    assert rate.rate == 4.0 / 32  # the floor: it never stops asking
    rate.answered(200, 0.2)
    assert rate.rate == pytest.approx(4.0 / 32 + 4.0 / 20)


def test_requests_are_spaced_at_the_rate():
    clock = FakeClock()
    rate = AdaptiveRate(2.0, clock=clock, sleep=clock.sleep)

    for _ in range(4):
        rate.acquire()

    assert clock.slept == [0.5, 0.5, 0.5]


def test_an_unchanged_release_costs_one_conditional_request(httpserver: HTTPServer, tmp_path: Path):
    """The real Orange Book release zip, served with an ETag and Last-Modified as FDA's
    site serves its files; fetched again, the publisher answers 304."""
    release = (SAMPLES / "orangebook" / "orange_book_2024-05.zip").read_bytes()
    etag, modified = '"6f1e-5f3a"', "Tue, 14 May 2024 13:02:11 GMT"
    httpserver.expect_request(
        "/media/76860/download", headers={"If-None-Match": etag}
    ).respond_with_data("", status=304)
    httpserver.expect_request("/media/76860/download").respond_with_data(
        release, headers={"ETag": etag, "Last-Modified": modified}
    )
    url = httpserver.url_for("/media/76860/download")

    first = download(url, source="orangebook", download_dir=tmp_path, name="ob.zip")
    kept = json.loads(first.with_name("ob.zip.sha256.json").read_text())
    again = download(url, source="orangebook", download_dir=tmp_path, name="ob.zip", refetch=True)

    assert first.read_bytes() == release
    assert (kept["etag"], kept["last_modified"]) == (etag, modified)
    assert again == first and again.read_bytes() == release
    assert len(httpserver.log) == 2
    second_request = httpserver.log[1][0]
    assert second_request.headers["If-None-Match"] == etag
    assert second_request.headers["If-Modified-Since"] == modified
    assert httpserver.log[1][1].status_code == 304


def test_a_changed_release_is_downloaded_again(httpserver: HTTPServer, tmp_path: Path):
    release = (SAMPLES / "orangebook" / "orange_book_2024-05.zip").read_bytes()
    newer = release + b"\0"  # derived: the same zip with one byte appended, a new ETag
    httpserver.expect_ordered_request("/ob.zip").respond_with_data(
        release, headers={"ETag": '"v1"'}
    )
    httpserver.expect_ordered_request(
        "/ob.zip", headers={"If-None-Match": '"v1"'}
    ).respond_with_data(newer, headers={"ETag": '"v2"'})
    url = httpserver.url_for("/ob.zip")

    download(url, source="orangebook", download_dir=tmp_path)
    again = download(url, source="orangebook", download_dir=tmp_path, refetch=True)

    assert again.read_bytes() == newer
    assert json.loads(again.with_name("ob.zip.sha256.json").read_text())["etag"] == '"v2"'
