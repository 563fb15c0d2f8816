"""Where the shared HTTP client sends a source's key, and where it goes at all: two real
HTTP servers on 127.0.0.1 (two ports: two hosts), one the source's API, the other not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from extract.bulk import download
from extract.errors import PublisherUnavailable, RequestRejected
from extract.http import PublisherClient

KEY = "mm-key-0c7d1e55"


class Recording:
    """A server that records the key it was sent (as any query parameter, census's is
    `key`, or in fooddata's `X-Api-Key` header) per path."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.seen: list[tuple[str, str | None, str | None]] = []

    def answer(self, path: str, response: Response | None = None) -> str:
        def handle(request: Request) -> Response:
            sent = [value for value in request.args.values() if value == KEY]
            self.seen.append(
                (request.path, sent[0] if sent else None, request.headers.get("X-Api-Key"))
            )
            return response or Response("{}", content_type="application/json")

        self.server.expect_request(path).respond_with_handler(handle)
        return self.server.url_for(path)


@pytest.fixture
def api(httpserver: HTTPServer) -> Recording:
    return Recording(httpserver)


@pytest.fixture
def elsewhere() -> Iterator[Recording]:
    """A second server: another host as far as a key is concerned."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield Recording(server)
    finally:
        server.clear()
        if server.is_running():
            server.stop()


@pytest.fixture
def keyed(monkeypatch, api: Recording) -> None:
    """A census key, and the census API URL pointing at the `api` server."""
    monkeypatch.setenv("SOURCES__CENSUS__API_KEY", KEY)
    monkeypatch.setenv("SOURCES__CENSUS__API_URL", api.server.url_for("/data"))
    monkeypatch.setenv("SOURCES__CENSUS__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("SOURCES__FOODDATA__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.01")


def test_the_key_goes_to_the_api_host_and_not_to_another(keyed, api, elsewhere):
    client = PublisherClient("census", api_urls=(api.server.url_for("/data"),))

    client.get(api.answer("/data/2023/acs/acs5"), what="a page")
    client.get(elsewhere.answer("/other"), what="a page elsewhere")

    assert api.seen == [("/data/2023/acs/acs5", KEY, None)]
    assert elsewhere.seen == [("/other", None, None)]


def test_a_bulk_download_from_another_host_carries_no_key(keyed, api, elsewhere, tmp_path):
    url = elsewhere.answer("/files/release.zip", Response(b"PK\x05\x06" + bytes(18)))

    saved = download(url, source="census", download_dir=tmp_path)

    assert saved.read_bytes().startswith(b"PK")
    assert elsewhere.seen == [("/files/release.zip", None, None)]


def test_a_redirect_to_another_host_drops_the_key_header_and_parameter(
    monkeypatch, keyed, api, elsewhere
):
    target = elsewhere.answer("/landing")
    # The API redirects and copies the query (the key with it) into the new location.
    api.answer(
        "/data/moved",
        Response(status=302, headers={"Location": f"{target}?key={KEY}&page=2"}),
    )
    census = PublisherClient("census", api_urls=(api.server.url_for("/data"),))
    census.get(api.server.url_for("/data/moved"), what="a page")

    monkeypatch.setenv("SOURCES__FOODDATA__API_KEY", KEY)
    monkeypatch.setenv("SOURCES__FOODDATA__API_KEY_HEADER", "X-Api-Key")
    fooddata = PublisherClient("fooddata", api_urls=(api.server.url_for("/data"),))
    fooddata.get(api.server.url_for("/data/moved"), what="a page")

    # census sends its key as a parameter, fooddata in a header: neither reaches the other host
    assert api.seen == [("/data/moved", KEY, None), ("/data/moved", None, KEY)]
    assert elsewhere.seen == [("/landing", None, None), ("/landing", None, None)]


def test_a_redirect_within_the_api_host_keeps_the_key(keyed, api):
    api.answer("/data/new")
    api.answer("/data/old", Response(status=302, headers={"Location": "/data/new"}))
    client = PublisherClient("census", api_urls=(api.server.url_for("/data"),))

    client.get(api.server.url_for("/data/old"), what="a page")

    assert api.seen == [("/data/old", KEY, None), ("/data/new", KEY, None)]


def test_configured_api_hosts_replace_the_default(monkeypatch, keyed, api, elsewhere):
    other = elsewhere.server
    monkeypatch.setenv("SOURCES__CENSUS__API_HOSTS", f"{other.host}:{other.port}")
    client = PublisherClient("census", api_urls=(api.server.url_for("/data"),))

    client.get(api.answer("/data/x"), what="a page")
    client.get(elsewhere.answer("/y"), what="a page")

    assert api.seen == [("/data/x", None, None)]
    assert elsewhere.seen == [("/y", KEY, None)]


@pytest.mark.parametrize(
    "url", ["http://example.org/release.zip", "ftp://example.org/release.zip", "file:///etc/hosts"]
)
def test_only_https_is_fetched_except_from_this_machine(keyed, tmp_path: Path, url: str):
    client = PublisherClient("census")
    with pytest.raises(RequestRejected, match="refused|only https"):
        client.get(url, what="a bulk file")
    with pytest.raises(RequestRejected, match="refused|only https"):
        download(url, source="census", download_dir=tmp_path)
    assert not list(tmp_path.rglob("*.zip"))


def test_a_redirect_to_plain_http_elsewhere_is_refused(keyed, api):
    api.answer(
        "/data/downgrade",
        Response(status=301, headers={"Location": "http://example.org/data/downgrade"}),
    )
    client = PublisherClient("census", api_urls=(api.server.url_for("/data"),))

    with pytest.raises(RequestRejected, match="redirected to http://example.org.*refused"):
        client.get(api.server.url_for("/data/downgrade"), what="a page")
    assert len(api.seen) == 1


def test_a_certificate_that_does_not_verify_is_refused(keyed, tmp_path: Path):
    """TLS is verified: a server with a self-signed certificate gets no request through
    (and no key)."""
    import ssl
    import subprocess

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    try:
        recording = Recording(server)
        url = recording.answer("/data/2023")
        assert url.startswith("https://")
        client = PublisherClient("census", api_urls=(url,))
        with pytest.raises(PublisherUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
            client.get(url, what="a page")
        assert recording.seen == []
    finally:
        server.clear()
        server.stop()
