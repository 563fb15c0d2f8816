"""The one HTTP client every source uses.

It is dlt's retrying session (429, 5xx, resets, timeouts and bodies cut short are retried
with exponential backoff; `Retry-After` is honoured) with `extract.resilience`'s transport
mounted on it: a per-host rate limit from `.dlt/config.toml` that backs off on 429s and
slow answers and recovers, a circuit breaker per host (after a few connection failures in
a row, calls fail at once for a cool-down, naming the host), and no retries for a host
name that does not resolve. Retry settings come from the
`[runtime]` section (`request_timeout`, `request_max_attempts`, `request_backoff_factor`,
`request_max_retry_delay`), the rate from `[sources.<source>] requests_per_second`, or
`requests_per_second_with_key` when a key is configured (publishers allow more with one).

A key goes only to the source's own API hosts (`[sources.<source>] api_hosts`; by default
the hosts of the API URLs the source was given, its `api_url` setting included), never to
a bulk download on another host, and never across a redirect to another host. Only
`https://` URLs are fetched (plain `http://` only to a loopback address: a replay in a
test), redirects included.

Errors come out as `extract.errors` exceptions naming the source and what was asked for;
query parameters that carry keys are redacted from every message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dlt
import orjson
import requests
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs import RuntimeConfiguration
from dlt.sources.helpers.requests import Client

from extract.errors import HostUnreachable, MalformedInput, PublisherUnavailable, RequestRejected
from extract.hosts import Host, host_of, parse_hosts, scheme_problem
from extract.resilience import CircuitOpen, GuardedAdapter, Guards, HostNotFound

log = logging.getLogger(__name__)

RETRY_STATUS = (429, 500, 502, 503, 504)
RETRY_EXCEPTIONS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,  # a body that stops halfway
)
SECRET_PARAM = re.compile(r"(api[_-]?key|key|token|secret|password)=[^&\s]+", re.IGNORECASE)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Hide the values of key-like query parameters (`api_key=...` becomes `api_key=***`)
    and every occurrence of the given secret values, wherever they appear."""
    text = SECRET_PARAM.sub(lambda match: f"{match.group(1)}=***", text)
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


class _RedactKeys(logging.Filter):
    """Hides key-like query parameters in a log record: urllib3 logs every request's full
    URL at DEBUG level, keys included."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactKeys())


class PublisherClient:
    """A retrying, rate-limited HTTP session for one source.

    `throttled` recognises a publisher's "slow down" answer that does not come as a 429
    (RxNav answers "too many requests" with HTTP 200): such an answer is retried with the
    same backoff as a 429, and still failing after the retry budget it is the same
    `PublisherUnavailable` error.
    """

    def __init__(
        self,
        source: str,
        *,
        throttled: Callable[[requests.Response], bool] | None = None,
        api_urls: Iterable[str] = (),
        guards: Guards | None = None,
    ) -> None:
        self.source = source
        self.throttled = throttled
        runtime = resolve_configuration(RuntimeConfiguration())
        self.max_attempts = runtime.request_max_attempts
        self.timeout = runtime.request_timeout
        client = Client(
            raise_for_status=False,
            status_codes=RETRY_STATUS,
            exceptions=RETRY_EXCEPTIONS,
            retry_condition=self._retry_throttled if throttled else None,
        )
        client.update_from_config(runtime)
        self.session = client.session
        # requests strips only `Authorization` on a redirect to another host: the key
        # (a header or a query parameter of ours) is stripped here too.
        self.session.rebuild_auth = self._rebuild_auth
        # A key from `.dlt/secrets.toml` ([sources.<source>] api_key) or the environment
        # (SOURCES__<SOURCE>__API_KEY) goes with each request to an API host as
        # `api_key_param`, or in the header `api_key_header` when that is configured
        # (api.data.gov's X-Api-Key, Socrata's X-App-Token): a URL is logged by urllib3 at
        # DEBUG, a header is not.
        self.api_key: str | None = dlt.secrets.get(f"sources.{source}.api_key") or None
        self.api_key_param = dlt.config.get(f"sources.{source}.api_key_param") or "api_key"
        self.api_key_header = dlt.config.get(f"sources.{source}.api_key_header") or None
        self.key_hosts = key_hosts(source, api_urls)
        per_second = dlt.config.get(f"sources.{source}.requests_per_second", float)
        if self.api_key:
            per_second = (
                dlt.config.get(f"sources.{source}.requests_per_second_with_key", float)
                or per_second
            )
        self.requests_per_second = per_second
        self.adapter = GuardedAdapter(per_second, guards)
        self.session.mount("https://", self.adapter)
        self.session.mount("http://", self.adapter)

    def get(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        what: str,
        stream: bool = False,
        accept: tuple[int, ...] = (),
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """GET `url`; `what` names the request in errors ("page 3", "study NCT01").

        `accept`: 4xx statuses returned to the caller instead of raised (openFDA answers
        a search that matches nothing with 404). `headers`: extra request headers (a
        conditional request's `If-None-Match`; a 304 answer is returned as it is)."""
        refused = scheme_problem(url)
        if refused:
            raise RequestRejected(self.source, what, f"{self.scrub(url)}: {refused}")
        headers = dict(headers or {})
        if self.sends_key_to(url) and self.api_key_header:
            headers[self.api_key_header] = self.api_key
        elif self.sends_key_to(url):
            params = {**(params or {}), self.api_key_param: self.api_key}
        shown = self.scrub(f"{url}?{urlencode(params)}" if params else url)
        try:
            response = self.session.get(url, params=params, stream=stream, headers=headers)
        except CircuitOpen as refused:
            raise PublisherUnavailable(self.source, what, f"{shown}: {refused}") from None
        except HostNotFound as unknown:
            raise HostUnreachable(self.source, what, f"{shown}: {unknown}") from None
        except RETRY_EXCEPTIONS as failure:
            raise PublisherUnavailable(
                self.source,
                what,
                f"{self._went_wrong(shown, failure)} after {self.max_attempts} attempts: "
                f"{self.scrub(str(failure))}",
            ) from None
        if response.status_code in RETRY_STATUS:
            raise PublisherUnavailable(
                self.source,
                what,
                f"{shown} still answered {response.status_code} after {self.max_attempts} attempts",
            )
        if self.throttled and response.status_code < 400 and self.throttled(response):
            raise PublisherUnavailable(
                self.source,
                what,
                f"{shown} still answered {response.status_code} saying it was throttled "
                f"after {self.max_attempts} attempts: {self.scrub(response.text[:100])!r}",
            )
        if response.status_code >= 400 and response.status_code not in accept:
            raise RequestRejected(
                self.source,
                what,
                f"{shown} answered {response.status_code}: {self.scrub(response.text[:300])}",
            )
        return response

    def sends_key_to(self, url: str) -> bool:
        """Whether a request to `url` carries the key: only to the source's API hosts."""
        return bool(self.api_key) and host_of(url) in self.key_hosts

    def _rebuild_auth(self, request: requests.PreparedRequest, response: requests.Response):
        """requests' hook for each redirect: refuse one to plain http, and take the key off
        a request that now goes to a host that is not one of the API's."""
        requests.Session.rebuild_auth(self.session, request, response)
        refused = scheme_problem(request.url or "")
        if refused:
            raise RequestRejected(
                self.source,
                self.scrub(response.url),
                f"redirected to {self.scrub(request.url or '')}: {refused}",
            )
        parts = urlsplit(request.url or "")
        query = parse_qsl(parts.query, keep_blank_values=True)
        if self.sends_key_to(request.url or ""):
            # Within the API: the key goes on, also when the new location left it out.
            if not self.api_key_header and self.api_key_param not in dict(query):
                query.append((self.api_key_param, self.api_key))
                request.url = urlunsplit(parts._replace(query=urlencode(query)))
            return
        if self.api_key_header:
            request.headers.pop(self.api_key_header, None)
        kept = [
            (name, value)
            for name, value in query
            if name != self.api_key_param and (not self.api_key or value != self.api_key)
        ]
        if len(kept) != len(query):
            request.url = urlunsplit(parts._replace(query=urlencode(kept)))

    def _retry_throttled(
        self, response: requests.Response | None, failure: BaseException | None
    ) -> bool:
        """dlt's retry predicate: retry a response `throttled` recognises."""
        if response is None or self.throttled is None or response.status_code >= 400:
            return False
        return self.throttled(response)

    def scrub(self, text: str) -> str:
        """`text` without this client's key or any key-like query parameter."""
        return redact(text, (self.api_key,) if self.api_key else ())

    @staticmethod
    def scrub_url(url: str) -> str:
        """`url` without key-like query parameters or a password."""
        parts = urlsplit(url)
        if parts.password is not None:
            netloc = parts.netloc.rsplit("@", 1)
            user = netloc[0].split(":", 1)[0]
            parts = parts._replace(netloc=f"{user}:***@{netloc[1]}")
        return redact(urlunsplit(parts))

    def _went_wrong(self, shown: str, failure: Exception) -> str:
        """What a request that raised ran into, in words (requests' own text is terse)."""
        if isinstance(failure, requests.Timeout):
            return f"{shown} did not answer within the {self.timeout:g} s timeout"
        if isinstance(failure, requests.exceptions.ChunkedEncodingError):
            return f"{shown} answered with a body cut short"
        return f"the connection to {shown} failed"

    def get_json(self, url: str, *, params: dict[str, Any] | None = None, what: str) -> Any:
        response = self.get(url, params=params, what=what)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as bad:
            raise MalformedInput(
                self.source, what, f"the response of {self.scrub(response.url)} is not JSON: {bad}"
            ) from None


def key_hosts(source: str, api_urls: Iterable[str] = ()) -> frozenset[Host]:
    """The hosts `source`'s key may go to: `[sources.<source>] api_hosts` when configured
    (a list of `host` or `host:port`), else the hosts of the API URLs the source was given
    and of its `api_url` setting (`SOURCES__<SOURCE>__API_URL` pointing at a replay on
    127.0.0.1 makes that replay the API host)."""
    configured = dlt.config.get(f"sources.{source}.api_hosts")
    if configured:
        return parse_hosts(configured)
    urls = [*api_urls, dlt.config.get(f"sources.{source}.api_url") or _default_api_url(source)]
    return frozenset(host for host in map(host_of, filter(None, urls)) if host)


def _default_api_url(source: str) -> str | None:
    """The `API_URL` constant of `extract.<source>.settings`, if the source has one."""
    import importlib

    try:
        settings = importlib.import_module(f"extract.{source}.settings")
    except ImportError:
        return None
    return getattr(settings, "API_URL", None)
