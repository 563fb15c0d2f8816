"""Failing fast when a publisher is down, and slowing down when it asks: shared by every
source through `extract.http.PublisherClient`.

- `CircuitBreaker`, one per publisher host for the whole process: after `failures`
  connection failures in a row (refused, reset, timed out), calls to that host fail at once
  for `cool_down_s` seconds, without a connection; then one trial call goes through, and
  its success closes the breaker again (its failure opens it for another cool-down).
- A host name that does not resolve fails the request at once (no retries): DNS answers
  "no such host" the same way the next minute.
- `AdaptiveRate`, one per host and configured rate: requests are spaced at the configured
  rate; a 429 or an answer slower than `slow_after_s` halves it (down to a floor), and each
  prompt answer adds back a twentieth of the configured rate, up to it again.

Written here rather than taken from a library: requests-ratelimiter (used before) keeps a
fixed rate, and the breaker has to sit inside dlt's retry loop (on the transport adapter)
so that an open breaker also ends the retries of the request in flight.

Settings, in `.dlt/config.toml` `[http]` (or `HTTP__BREAKER_FAILURES`, ...):
`breaker_failures` (5), `breaker_cool_down_s` (60), `slow_answer_s` (30).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dlt
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError

from extract.hosts import Host, host_of

Clock = Callable[[], float]
Sleep = Callable[[float], None]

DEFAULT_BREAKER_FAILURES = 5
DEFAULT_COOL_DOWN_S = 60.0
DEFAULT_SLOW_ANSWER_S = 30.0


class CircuitOpen(requests.RequestException):
    """Calls to a host are refused for a while: it failed too many times in a row. Not a
    `ConnectionError`, so dlt's retry loop does not retry it."""

    def __init__(self, host: Host, failures: int, retry_in_s: float) -> None:
        self.host = host
        self.retry_in_s = retry_in_s
        super().__init__(
            f"{show_host(host)} failed {failures} times in a row: calls to it fail at once "
            f"for the next {retry_in_s:.0f} s (circuit breaker open)"
        )


class HostNotFound(requests.RequestException):
    """A host name that does not resolve (DNS): not retried."""

    def __init__(self, host: Host | None, failure: BaseException) -> None:
        self.host = host
        name = host[0] if host else "the host"
        super().__init__(
            f"the name {name} does not resolve (no network, or a wrong host name): "
            f"not retried ({failure.__class__.__name__})"
        )


def show_host(host: Host) -> str:
    name, port = host
    return name if port in (80, 443) else f"{name}:{port}"


@dataclass
class CircuitBreaker:
    """The state of one host: closed (calls go through), open (they fail at once until
    `opened_at + cool_down_s`), then half-open (one trial call)."""

    host: Host
    failures_to_open: int = DEFAULT_BREAKER_FAILURES
    cool_down_s: float = DEFAULT_COOL_DOWN_S
    clock: Clock = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    trial_in_flight: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at < self.cool_down_s:
            return "open"
        return "half-open"

    def before_call(self) -> None:
        """Raise `CircuitOpen` when calls to the host must fail now."""
        with self._lock:
            state = self.state
            if state == "closed":
                return
            if state == "half-open" and not self.trial_in_flight:
                self.trial_in_flight = True  # this call is the trial
                return
            remaining = self.cool_down_s - (self.clock() - (self.opened_at or 0))
            raise CircuitOpen(self.host, self.failures, max(remaining, 0.0))

    def succeeded(self) -> None:
        with self._lock:
            self.failures, self.opened_at, self.trial_in_flight = 0, None, False

    def failed(self) -> None:
        with self._lock:
            self.failures += 1
            if self.trial_in_flight or self.failures >= self.failures_to_open:
                self.opened_at = self.clock()
            self.trial_in_flight = False


@dataclass
class AdaptiveRate:
    """Requests to one host spaced at `rate` per second, `rate` adapting between
    `ceiling * floor_share` and `ceiling` (the configured rate)."""

    ceiling: float
    slow_after_s: float = DEFAULT_SLOW_ANSWER_S
    floor_share: float = 1 / 32
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    rate: float = 0.0
    last_at: float = float("-inf")  # when the last request was let through
    backed_off: int = 0  # how many times it slowed down (for logs and metrics)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.rate = self.rate or self.ceiling

    @property
    def floor(self) -> float:
        return self.ceiling * self.floor_share

    def acquire(self) -> None:
        """Wait for this request's turn: `1 / rate` seconds after the last one, at the rate
        of now (a 429 answered meanwhile spaces the next request out at once)."""
        with self._lock:
            now = self.clock()
            start = max(now, self.last_at + 1 / self.rate)
            self.last_at = start
        if start > now:
            self.sleep(start - now)

    def answered(self, status: int, seconds: float) -> None:
        """Adapt to an answer: slow down on 429 or a slow answer, else speed back up."""
        with self._lock:
            if status == 429 or seconds > self.slow_after_s:
                self.rate = max(self.floor, self.rate / 2)
                self.backed_off += 1
            else:
                self.rate = min(self.ceiling, self.rate + self.ceiling / 20)


@dataclass
class Guards:
    """The process's breakers and rate limiters, by host (tests make their own)."""

    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    breakers: dict[Host, CircuitBreaker] = field(default_factory=dict)
    rates: dict[tuple[Host, float], AdaptiveRate] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def breaker(self, host: Host) -> CircuitBreaker:
        with self._lock:
            if host not in self.breakers:
                self.breakers[host] = CircuitBreaker(
                    host,
                    failures_to_open=_setting("breaker_failures", DEFAULT_BREAKER_FAILURES),
                    cool_down_s=_setting("breaker_cool_down_s", DEFAULT_COOL_DOWN_S),
                    clock=self.clock,
                )
            return self.breakers[host]

    def rate(self, host: Host, per_second: float) -> AdaptiveRate:
        with self._lock:
            key = (host, per_second)
            if key not in self.rates:
                self.rates[key] = AdaptiveRate(
                    per_second,
                    slow_after_s=_setting("slow_answer_s", DEFAULT_SLOW_ANSWER_S),
                    clock=self.clock,
                    sleep=self.sleep,
                )
            return self.rates[key]


GUARDS = Guards()


def _setting(name: str, default: float) -> float:
    value = dlt.config.get(f"http.{name}")
    return float(value) if value is not None else default


class GuardedAdapter(HTTPAdapter):
    """requests' transport adapter with the host's breaker and adaptive rate around each
    attempt (dlt's retries call it once per attempt)."""

    def __init__(self, per_second: float | None, guards: Guards | None = None) -> None:
        super().__init__()
        self.per_second = per_second
        self.guards = guards or GUARDS

    def send(self, request: requests.PreparedRequest, *args, **kwargs) -> requests.Response:
        host = host_of(request.url or "")
        if host is None:
            return super().send(request, *args, **kwargs)
        breaker = self.guards.breaker(host)
        breaker.before_call()
        rate = self.guards.rate(host, self.per_second) if self.per_second else None
        if rate:
            rate.acquire()
        started = self.guards.clock()
        try:
            response = super().send(request, *args, **kwargs)
        except requests.ConnectionError as failure:
            if _is_name_resolution(failure):
                breaker.failed()
                raise HostNotFound(host, failure) from failure
            breaker.failed()
            raise
        except requests.Timeout:
            breaker.failed()
            raise
        breaker.succeeded()
        if rate:
            rate.answered(response.status_code, self.guards.clock() - started)
        return response


def _is_name_resolution(failure: BaseException) -> bool:
    """Whether a connection error is DNS saying the name does not exist (or cannot be
    looked up now): urllib3's NameResolutionError somewhere among its causes."""
    pending: list[object] = [failure]
    seen: set[int] = set()
    while pending:
        error = pending.pop()
        if not isinstance(error, BaseException) or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, NameResolutionError):
            return True
        pending.extend([getattr(error, "reason", None), error.__cause__, error.__context__])
        pending.extend(error.args)
    return False
