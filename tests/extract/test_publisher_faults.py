"""The shared HTTP client against the ways a public API fails, through the ClinicalTrials.gov
source: the real dlt pipeline into the real PostgreSQL, answers built from real recorded pages.

Status-level failures (429, 5xx) are replayed with pytest-httpserver (`studies_api`); failures
below HTTP (a reset socket, a body cut short, an answer too late) by `FaultServer`, a raw
socket server on 127.0.0.1 that misbehaves on cue.
"""

from __future__ import annotations

import itertools
import socket
import struct
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest

from extract.errors import PublisherUnavailable
from tests.conftest import StudiesApi, error_response, json_response, land_source, sample
from tests.extract.test_clinicaltrials import (
    DATED_IDS,
    PAGE1,
    PAGE2_LAST,
    PAGE_DATED,
    PHELAN_IDS,
    landed_ids,
    raw_rows,
)

ATTEMPTS = 4  # RUNTIME__REQUEST_MAX_ATTEMPTS as the `studies_api` fixture sets it
FIRST_WINDOW = "clinicaltrials: page 1 of studies updated 1999-01-01 to now: "


# -- 429 and 5xx -------------------------------------------------------------------------


def test_a_run_of_429s_with_retry_after_is_waited_out_as_told(database, studies_api: StudiesApi):
    studies_api.pages += [error_response(429, {"Retry-After": "1"}) for _ in range(3)]
    studies_api.pages.append(json_response(PAGE_DATED))

    result = land_source(database, "clinicaltrials")

    assert len(studies_api.search_requests) == 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(studies_api.times)]
    assert all(gap >= 0.95 for gap in gaps), gaps  # each wait as long as the header said
    assert landed_ids(database) == DATED_IDS
    assert result.rows == {"studies": len(DATED_IDS)}


def test_a_run_of_429s_without_retry_after_is_retried_with_backoff(
    database, studies_api: StudiesApi
):
    studies_api.pages += [error_response(429) for _ in range(ATTEMPTS - 1)]
    studies_api.pages.append(json_response(PAGE_DATED))

    land_source(database, "clinicaltrials")

    assert len(studies_api.search_requests) == ATTEMPTS  # the whole budget, and it sufficed
    assert landed_ids(database) == DATED_IDS


@pytest.mark.parametrize(
    "statuses",
    [[429] * ATTEMPTS, [503] * ATTEMPTS, [503, 429, 503, 429]],
    ids=["429", "503", "503-and-429"],
)
def test_failing_past_the_retry_budget_stops_clearly_and_keeps_what_landed(
    database, studies_api: StudiesApi, statuses: list[int]
):
    studies_api.pages.append(json_response(PAGE_DATED))
    land_source(database, "clinicaltrials")
    before = raw_rows(database)

    studies_api.pages += [error_response(status) for status in statuses]
    with pytest.raises(PublisherUnavailable) as failure:
        land_source(database, "clinicaltrials")

    message = str(failure.value)
    assert message.startswith("clinicaltrials: page 1 of studies updated 2022-11-20 to now: ")
    assert f"still answered {statuses[-1]} after {ATTEMPTS} attempts" in message
    assert failure.value.retryable
    assert len(studies_api.search_requests) == 1 + ATTEMPTS
    assert raw_rows(database) == before


def test_failing_on_a_later_page_lands_none_of_the_window_until_a_rerun_lands_it_all(
    database, studies_api: StudiesApi
):
    studies_api.pages.append(json_response(PAGE_DATED))
    land_source(database, "clinicaltrials")
    before = raw_rows(database)

    studies_api.pages.append(json_response(PAGE1))
    studies_api.pages += [error_response(503) for _ in range(ATTEMPTS)]
    with pytest.raises(PublisherUnavailable) as failure:
        land_source(database, "clinicaltrials")

    assert str(failure.value).startswith(
        "clinicaltrials: page 2 of studies updated 2022-11-20 to now: "
    )
    assert raw_rows(database) == before  # page 1 of the failed window did not land alone

    studies_api.pages += [json_response(PAGE1), json_response(PAGE2_LAST)]
    land_source(database, "clinicaltrials")
    assert sorted(set(landed_ids(database))) == sorted(set(DATED_IDS) | set(PHELAN_IDS))


# -- failures below HTTP -----------------------------------------------------------------

SLOW_SECONDS = 2.0  # how late a "slow" answer comes; the tests' timeout is 1 s


def http_response(body: bytes, *, content_length: int | None = None) -> bytes:
    """A complete HTTP/1.1 200 answer (the connection closes after it)."""
    length = len(body) if content_length is None else content_length
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {length}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


class FaultServer:
    """An HTTP server on 127.0.0.1 that fails each connection the way it is told.

    Every connection takes the next entry of `behaviours` in the order they arrive, reads
    the request and then:

    - "reset": resets the socket without a word (RST: what a dropped connection looks like),
    - "close": closes it without a word,
    - "truncate": sends the good page with a Content-Length announcing all of it, but only
      half the body, then closes,
    - "slow": sends the good page, but only after `SLOW_SECONDS`,
    - bytes: sends them as the whole answer (see `http_response`).

    With nothing queued it answers 500. Each connection is served on its own thread, so a
    slow answer never holds up the retry behind it.
    """

    path = "/api/v2/studies"

    def __init__(self, page: bytes) -> None:
        self.page = page
        self.behaviours: list[str | bytes] = []
        self.requests: list[dict[str, str]] = []  # query parameters of each request
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}{self.path}"
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(10)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            behaviour = self.behaviours.pop(0) if self.behaviours else None
            thread = threading.Thread(target=self._serve, args=(connection, behaviour))
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket, behaviour: str | bytes | None) -> None:
        with connection:
            try:
                self._read_request(connection)
                if behaviour == "reset":
                    connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                elif behaviour == "close":
                    connection.shutdown(socket.SHUT_RDWR)
                elif behaviour == "truncate":
                    whole = http_response(self.page)
                    connection.sendall(whole[: len(whole) - len(self.page) // 2])
                elif behaviour == "slow":
                    if not self._stopping.wait(SLOW_SECONDS):
                        connection.sendall(http_response(self.page))
                elif behaviour is None:
                    connection.sendall(
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
                        b"Connection: close\r\n\r\n"
                    )
                else:
                    connection.sendall(behaviour)
            except OSError:
                pass  # the client gave up on this connection first

    def _read_request(self, connection: socket.socket) -> None:
        connection.settimeout(10)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        target = received.split(b"\r\n", 1)[0].split(b" ")[1].decode()
        self.requests.append(dict(parse_qsl(urlsplit(target).query)))


@pytest.fixture
def fault_server(studies_api: StudiesApi, monkeypatch: pytest.MonkeyPatch) -> FaultServer:
    """`FaultServer` with the good answer being the real dated page, the source pointed at it.

    Built on `studies_api` for the rest of the source's test settings (one window, no rate
    limit, four quick attempts); only the URL changes.
    """
    server = FaultServer(sample(PAGE_DATED))
    monkeypatch.setenv("SOURCES__CLINICALTRIALS__API_URL", server.url)
    yield server
    server.stop()


def good_page() -> bytes:
    return http_response(sample(PAGE_DATED))


def unavailable(database, fault_server: FaultServer) -> str:
    """Run the source against a server failing every attempt; the error it stopped with."""
    with pytest.raises(PublisherUnavailable) as failure:
        land_source(database, "clinicaltrials")
    assert failure.value.retryable
    assert len(fault_server.requests) == ATTEMPTS
    message = str(failure.value)
    assert message.startswith(FIRST_WINDOW)
    assert f"{fault_server.url}?format=json" in message  # what was asked for
    return message


@pytest.mark.parametrize("drop", ["reset", "close"])
def test_a_connection_dropped_once_is_retried(database, fault_server: FaultServer, drop: str):
    fault_server.behaviours += [drop, good_page()]

    land_source(database, "clinicaltrials")

    assert len(fault_server.requests) == 2
    assert fault_server.requests[0] == fault_server.requests[1]  # the same page asked again
    assert landed_ids(database) == DATED_IDS


@pytest.mark.parametrize(
    ("drop", "detail"),
    [("reset", "Connection reset by peer"), ("close", "closed connection without response")],
)
def test_a_connection_dropped_every_time_stops_clearly(
    database, fault_server: FaultServer, drop: str, detail: str
):
    fault_server.behaviours += [drop] * ATTEMPTS

    message = unavailable(database, fault_server)

    assert f"the connection to {fault_server.url}?" in message
    assert f"failed after {ATTEMPTS} attempts: " in message
    assert detail in message


def test_a_body_cut_short_once_is_retried_not_parsed(database, fault_server: FaultServer):
    fault_server.behaviours += ["truncate", good_page()]

    result = land_source(database, "clinicaltrials")

    assert len(fault_server.requests) == 2
    assert landed_ids(database) == DATED_IDS
    assert result.rows == {"studies": len(DATED_IDS)}


def test_a_body_cut_short_every_time_stops_clearly(database, fault_server: FaultServer):
    fault_server.behaviours += ["truncate"] * ATTEMPTS

    message = unavailable(database, fault_server)

    assert f"answered with a body cut short after {ATTEMPTS} attempts: " in message
    half = len(sample(PAGE_DATED)) // 2
    assert f"IncompleteRead({len(sample(PAGE_DATED)) - half} bytes read" in message


def test_an_answer_after_the_timeout_is_retried(
    database, fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "1")
    fault_server.behaviours += ["slow", good_page()]

    land_source(database, "clinicaltrials")

    assert len(fault_server.requests) == 2
    assert landed_ids(database) == DATED_IDS


def test_answers_always_after_the_timeout_stop_naming_it(
    database, fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "1")
    fault_server.behaviours += ["slow"] * ATTEMPTS

    message = unavailable(database, fault_server)

    assert f"did not answer within the 1 s timeout after {ATTEMPTS} attempts: " in message
    assert "Read timed out" in message
