"""Fault injection and the request log.

A fault answers matching API requests in place of the routes, so a faulted request never
touches the state, except an `applied` fault (`apply_then_fail`): the request is carried
out, then its answer is replaced by an error, as when GitHub applies a write and the
answer is lost (a timeout, a 502 from a proxy). Faults match in the order they were
added; `slow` faults only delay a request and let it (or another fault) answer afterwards.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

FaultKind = Literal["status", "secondary", "primary", "slow", "applied"]
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
MethodScope = str | Iterable[str] | None

SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID {rid}."
)
PRIMARY_MESSAGE = (
    "API rate limit exceeded for user ID {uid}. If you reach out to GitHub Support for help, "
    "please include the request ID {rid} and timestamp {ts}."
)
RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"


def _methods(scope: MethodScope) -> frozenset[str] | None:
    """`None` = any method, `"write"` = POST/PATCH/PUT/DELETE, else one or more verbs."""
    if scope is None:
        return None
    if isinstance(scope, str):
        return WRITE_METHODS if scope.lower() == "write" else frozenset({scope.upper()})
    return frozenset(m.upper() for m in scope)


@dataclass
class Fault:
    kind: FaultKind
    count: int | None = 1  # requests left to hit; None = until `until` (primary)
    status: int = 502
    message: str | None = None
    retry_after: int | None = None  # secondary: the Retry-After header, if any
    until: int | None = None  # primary: epoch second of X-RateLimit-Reset
    seconds: float = 0.0  # slow: delay per request
    methods: frozenset[str] | None = None
    path: re.Pattern[str] | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method.upper() not in self.methods:
            return False
        return self.path is None or self.path.search(path) is not None

    def live(self, now: float) -> bool:
        if self.until is not None and now >= self.until:
            return False
        return self.count is None or self.count > 0

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "status": self.status,
            "retry_after": self.retry_after,
            "until": self.until,
            "seconds": self.seconds,
            "methods": sorted(self.methods) if self.methods else None,
            "path": self.path.pattern if self.path else None,
            "hits": self.hits,
        }


class Faults:
    """The faults of one server; safe to drive from the test thread while it serves."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._clock = clock

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        now = self._clock()
        with self._lock:
            return [f for f in self._faults if f.live(now)]

    def fail_next(
        self,
        n: int = 1,
        status: int = 502,
        *,
        method: MethodScope = None,
        path: str | None = None,
        message: str | None = None,
    ) -> Fault:
        """The next `n` matching requests get `status` with a JSON message."""
        return self.add(
            Fault("status", n, status, message, methods=_methods(method), path=_regex(path))
        )

    def apply_then_fail(
        self,
        n: int = 1,
        status: int = 502,
        *,
        method: MethodScope = None,
        path: str | None = None,
        message: str | None = None,
    ) -> Fault:
        """The next `n` matching requests are carried out (a POST creates), then answered
        with `status`: the client cannot know its write was applied."""
        return self.add(
            Fault("applied", n, status, message, methods=_methods(method), path=_regex(path))
        )

    def secondary_rate_limit(
        self,
        retry_after: int | None = 2,
        count: int = 1,
        *,
        status: int = 403,
        method: MethodScope = None,
        path: str | None = None,
    ) -> Fault:
        """GitHub's abuse limit: 403 (or 429), `Retry-After` unless `retry_after=None`."""
        return self.add(
            Fault(
                "secondary",
                count,
                status,
                retry_after=retry_after,
                methods=_methods(method),
                path=_regex(path),
            )
        )

    def exhaust_primary(
        self,
        reset_in: float = 3,
        *,
        status: int = 403,
        method: MethodScope = None,
        path: str | None = None,
    ) -> Fault:
        """Remaining 0 until the reset second (now + `reset_in`, rounded up) has passed."""
        until = math.ceil(self._clock() + reset_in)
        return self.add(
            Fault("primary", None, status, until=until, methods=_methods(method), path=_regex(path))
        )

    def slow(
        self,
        seconds: float,
        count: int = 1,
        *,
        method: MethodScope = None,
        path: str | None = None,
    ) -> Fault:
        """Delay the next `count` matching requests by `seconds` before answering."""
        return self.add(
            Fault("slow", count, seconds=seconds, methods=_methods(method), path=_regex(path))
        )

    def add_spec(self, spec: Mapping[str, Any]) -> Fault:
        """A fault from its JSON form (the `/_fake/faults` body), e.g.
        `{"kind": "fail_next", "n": 2, "status": 502, "method": "write"}`."""
        options = dict(spec)
        kind = options.pop("kind")
        adders: dict[str, Callable[..., Fault]] = {
            "fail_next": self.fail_next,
            "apply_then_fail": self.apply_then_fail,
            "secondary_rate_limit": self.secondary_rate_limit,
            "exhaust_primary": self.exhaust_primary,
            "slow": self.slow,
        }
        if kind not in adders:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(adders)}")
        return adders[kind](**options)

    def take_delay(self, method: str, path: str) -> float:
        """Consume the matching `slow` faults; return the total delay to apply."""
        delay = 0.0
        now = self._clock()
        with self._lock:
            for fault in self._faults:
                if fault.kind == "slow" and fault.live(now) and fault.matches(method, path):
                    delay += fault.seconds
                    self._hit(fault)
        return delay

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one hit of the first live answering fault matching the request."""
        now = self._clock()
        with self._lock:
            self._faults = [f for f in self._faults if f.live(now)]
            for fault in self._faults:
                if fault.kind != "slow" and fault.matches(method, path):
                    self._hit(fault)
                    return fault
        return None

    @staticmethod
    def _hit(fault: Fault) -> None:
        fault.hits += 1
        if fault.count is not None:
            fault.count -= 1


def _regex(path: str | None) -> re.Pattern[str] | None:
    return None if path is None else re.compile(path)


def fault_body(fault: Fault, request_id: str, user_id: int | None) -> dict[str, Any]:
    if fault.kind == "secondary":
        message = SECONDARY_MESSAGE.format(rid=request_id)
        return {"message": fault.message or message, "documentation_url": RATE_LIMIT_DOCS}
    if fault.kind == "primary":
        ts = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        message = PRIMARY_MESSAGE.format(uid=user_id or 0, rid=request_id, ts=ts)
        return {"message": fault.message or message, "documentation_url": RATE_LIMIT_DOCS}
    return {"message": fault.message or HTTPStatus(fault.status).phrase}


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str  # without the /api/v3 prefix and the query
    query: dict[str, str]
    status: int
    time: float  # epoch seconds when the answer was sent
    user: str | None  # the token's login, whether or not the request was authorized
    fault: FaultKind | None = None


@dataclass
class RequestLog:
    """Every API request (not `/_fake/` control requests), faulted ones included."""

    _entries: list[LoggedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def append(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, method: str | None = None, path: str | None = None) -> list[LoggedRequest]:
        """Filtered by exact method and by `path` regex (full match), when given."""
        pattern = _regex(path)
        with self._lock:
            return [
                e
                for e in self._entries
                if (method is None or e.method == method.upper())
                and (pattern is None or pattern.fullmatch(e.path))
            ]

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
