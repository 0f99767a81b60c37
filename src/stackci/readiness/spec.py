"""What "ready" means for each service: the `wait` mapping, parsed and checked.

    db: healthy
    migrate: completed
    api: {http: http://localhost:8000/health, status: 2xx, timeout: 90s}
    cache: {tcp: localhost:6379}
    kafka: {exec: kafka-broker-api-versions.sh --bootstrap-server localhost:9092}
    worker: {log: consumer started}

A service's value is a check name, a mapping of checks and options, or a list of those;
every check listed must pass. The same mapping may sit in the compose file as a
service's `x-stackci-wait` field; `merge` lets the action input win where both speak.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from stackci.core.runner.inputs import MAX_TIMEOUT, format_duration, parse_duration

STATE_CHECKS = ("healthy", "running", "completed")
ACTIVE_CHECKS = ("http", "tcp", "exec", "log")
CHECK_KINDS = STATE_CHECKS + ACTIVE_CHECKS
HTTP_OPTIONS = ("status", "body")
SERVICE_OPTIONS = ("timeout", "interval")
# The check a service gets when nothing is said: healthy when it has a healthcheck,
# else running, or exited 0 (a one-shot job).
AUTO = "auto"
# How long a container ready only by running must stay up (the machine's
# settle_deadlines): the default of the `settle` input. Here, not in machine.py, so that
# reading the inputs does not import the machine.
RUNNING_SETTLE = 2.0


class WaitSpecError(ValueError):
    """The wait mapping is malformed; the message says where and how."""


@dataclass(frozen=True)
class StatusRule:
    """Accepted HTTP statuses: exact codes and whole classes (`2xx`)."""

    codes: frozenset[int] = frozenset()
    classes: frozenset[int] = frozenset({2})

    def accepts(self, status: int) -> bool:
        return status in self.codes or status // 100 in self.classes

    def __str__(self) -> str:
        parts = [f"{c}xx" for c in sorted(self.classes)] + [str(c) for c in sorted(self.codes)]
        return " or ".join(parts)


@dataclass(frozen=True)
class Check:
    """One readiness check. `target` is the URL (http), `host:port` (tcp; an empty host
    means the service itself), the command as written (exec) or the regex (log)."""

    kind: str
    target: str = ""
    argv: tuple[str, ...] = ()  # exec: what runs in the container
    status: StatusRule = field(default_factory=StatusRule)  # http
    body: re.Pattern[str] | None = None  # http: must match the response body
    pattern: re.Pattern[str] | None = None  # log

    @property
    def per_container(self) -> bool:
        """Checked on every container of the service (else once for the service)."""
        return self.kind not in ("http", "tcp")

    @property
    def needs_running(self) -> bool:
        """A container that exits (even with code 0) can no longer pass this check."""
        return self.kind in ("healthy", "running", "http", "tcp", "exec")

    def describe(self) -> str:
        if self.kind == AUTO:
            return "running or completed (healthy if it has a healthcheck)"
        if self.kind == "http":
            extra = f", body ~ /{self.body.pattern}/" if self.body else ""
            return f"http {self.target} → {self.status}{extra}"
        if self.kind == "tcp":
            return f"tcp {self.target}"
        if self.kind == "exec":
            return f"exec `{self.target}`"
        if self.kind == "log":
            return f"log /{self.target}/"
        return self.kind


@dataclass(frozen=True)
class ServiceWait:
    """A service's checks (empty: the automatic rule) and its own time limits."""

    checks: tuple[Check, ...] = ()
    timeout: float | None = None
    interval: float | None = None

    @property
    def effective_checks(self) -> tuple[Check, ...]:
        return self.checks or (Check(AUTO),)


def parse_wait(mapping: Mapping[str, Any], where: str = "") -> dict[str, ServiceWait]:
    """Parse a whole `wait` mapping (service name -> spec)."""
    return {str(name): parse_service_wait(value, f"{where}{name}")
            for name, value in mapping.items()}


def parse_service_wait(value: Any, where: str) -> ServiceWait:
    """One service's spec: None, a check name, a mapping, or a list of those."""
    if value is None:
        return ServiceWait()
    items = value if isinstance(value, list) else [value]
    if not items:
        raise WaitSpecError(f"{where}: an empty list names no check")
    waits = [_parse_item(item, where) for item in items]
    checks = tuple(c for w in waits for c in w.checks)
    return ServiceWait(checks, _only_one(waits, "timeout", where),
                       _only_one(waits, "interval", where))


def merge(from_file: ServiceWait | None, from_input: ServiceWait | None) -> ServiceWait:
    """The input wins where both speak: its checks replace the file's checks, and its
    timeout and interval, when given, replace the file's."""
    base = from_file or ServiceWait()
    if from_input is None:
        return base
    return replace(
        base,
        checks=from_input.checks or base.checks,
        timeout=from_input.timeout if from_input.timeout is not None else base.timeout,
        interval=from_input.interval if from_input.interval is not None else base.interval,
    )


def parse_active_check(kind: str, item: Mapping[str, Any], where: str) -> Check:
    """One http or exec check from a mapping with its options (`status`, `body`), as
    in the wait mapping: for checks that are not a service's wait (the smoke checks)."""
    check = _parse_check(kind, item[kind], item, f"{where}.{kind}")
    assert check is not None  # an active kind always gives a check
    return check


def parse_duration_option(value: Any, where: str) -> float | None:
    """A duration option (`timeout: 30s`), None when not given."""
    return _duration(value, where)


# -- one item ---------------------------------------------------------------------------

def _parse_item(item: Any, where: str) -> ServiceWait:
    if isinstance(item, str):
        if item not in STATE_CHECKS:
            raise WaitSpecError(
                f"{where}: {item!r} is not a check; use healthy, running or completed, or a "
                "mapping with one of http, tcp, exec, log")
        return ServiceWait((Check(item),))
    if not isinstance(item, Mapping):
        raise WaitSpecError(f"{where}: expected a check name or a mapping, "
                            f"not {type(item).__name__}")
    known = set(CHECK_KINDS + HTTP_OPTIONS + SERVICE_OPTIONS)
    for key in item:
        if key not in known:
            raise WaitSpecError(
                f"{where}: unknown key {key!r}; checks are {', '.join(CHECK_KINDS)}; "
                f"options are {', '.join(HTTP_OPTIONS + SERVICE_OPTIONS)}")
    if "http" not in item:
        for option in HTTP_OPTIONS:
            if option in item:
                raise WaitSpecError(f"{where}: {option!r} belongs to an http check")
    checks = [_parse_check(kind, item[kind], item, f"{where}.{kind}")
              for kind in CHECK_KINDS if kind in item]
    return ServiceWait(
        tuple(c for c in checks if c is not None),
        _duration(item.get("timeout"), f"{where}.timeout"),
        _duration(item.get("interval"), f"{where}.interval"),
    )


def _parse_check(kind: str, value: Any, item: Mapping[str, Any], where: str) -> Check | None:
    if kind in STATE_CHECKS:
        if not isinstance(value, bool):
            raise WaitSpecError(f"{where}: expected true or false, got {value!r}")
        return Check(kind) if value else None
    if kind == "http":
        return Check("http", _url(value, where), status=_status(item.get("status"), where),
                     body=_regex(item["body"], f"{where}.body") if "body" in item else None)
    if kind == "tcp":
        return Check("tcp", _host_port(value, where))
    if kind == "exec":
        argv, text = _command(value, where)
        return Check("exec", text, argv=argv)
    text = _text(value, where)
    return Check("log", text, pattern=_regex(text, where))


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise WaitSpecError(f"{where}: expected text, got {value!r}")
    text = str(value).strip()
    if not text:
        raise WaitSpecError(f"{where}: must not be empty")
    return text


def _url(value: Any, where: str) -> str:
    url = _text(value, where)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WaitSpecError(f"{where}: expected an http:// or https:// URL, got {url!r}")
    try:
        _ = parts.port
    except ValueError as exc:
        raise WaitSpecError(f"{where}: bad port in {url!r}") from exc
    return url


def _host_port(value: Any, where: str) -> str:
    """`host:port`, or a bare port meaning the service's own container."""
    text = _text(value, where)
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise WaitSpecError(f"{where}: expected host:port or a port, got {text!r}")
    return f"{host.strip('[]')}:{int(port)}" if host else str(int(port))


def _command(value: Any, where: str) -> tuple[tuple[str, ...], str]:
    """A string runs through `sh -c` (pipes and quotes work); a list runs as is."""
    if isinstance(value, list):
        if not value or not all(isinstance(v, str | int | float) for v in value):
            raise WaitSpecError(f"{where}: expected a command or a list of words")
        argv = tuple(str(v) for v in value)
        return argv, " ".join(argv)
    text = _text(value, where)
    return ("sh", "-c", text), text


def _regex(value: Any, where: str) -> re.Pattern[str]:
    text = _text(value, where)
    try:
        return re.compile(text)
    except re.error as exc:
        raise WaitSpecError(f"{where}: invalid regular expression {text!r} ({exc})") from exc


def _status(value: Any, where: str) -> StatusRule:
    if value is None:
        return StatusRule()
    codes: set[int] = set()
    classes: set[int] = set()
    for entry in value if isinstance(value, list) else [value]:
        text = str(entry).strip().lower()
        if isinstance(entry, bool) or not re.fullmatch(r"[1-5](\d\d|xx)", text):
            raise WaitSpecError(f"{where}.status: expected a code such as 200, a class such "
                                f"as 2xx, or a list of those; got {entry!r}")
        if text.endswith("xx"):
            classes.add(int(text[0]))
        else:
            codes.add(int(text))
    if not codes and not classes:
        raise WaitSpecError(f"{where}.status: an empty list accepts nothing")
    return StatusRule(frozenset(codes), frozenset(classes))


def _duration(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise WaitSpecError(f"{where}: expected a duration such as 90s, got {value!r}")
    try:
        seconds = float(value) if isinstance(value, int | float) else parse_duration(str(value))
    except ValueError as exc:
        raise WaitSpecError(f"{where}: expected a duration such as 90s or 2m, "
                            f"got {value!r}") from exc
    if seconds <= 0:
        raise WaitSpecError(f"{where}: expected a duration above zero, got {value!r}")
    if seconds > MAX_TIMEOUT:
        raise WaitSpecError(f"{where}: expected a duration of at most "
                            f"{format_duration(MAX_TIMEOUT)}, got {value!r}")
    return seconds


def _only_one(waits: list[ServiceWait], option: str, where: str) -> float | None:
    values = {getattr(w, option) for w in waits} - {None}
    if len(values) > 1:
        raise WaitSpecError(f"{where}: {option} is given more than once")
    return values.pop() if values else None
