"""The active checks: an HTTP request, a TCP connection, a command run inside the
container, a line in the container's log. Each runs in a thread of its own, with a
short backoff between attempts, and reports every attempt to the watcher."""

from __future__ import annotations

import contextlib
import queue
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import docker
import docker.errors
import requests
import urllib3

from stackci.readiness.spec import Check
from stackci.readiness.state import Attempt

FIRST_DELAY = 0.05  # seconds before the second attempt; doubles up to the interval
DEFAULT_INTERVAL = 1.0
HTTP_TIMEOUT = (2.0, 5.0)  # connect, read
TCP_TIMEOUT = 2.0
# A published port answers through docker-proxy, which accepts a connection and drops it
# at once while nothing listens in the container. A real server keeps it open this long.
TCP_SETTLE = 0.05

# Maps a host named in a check to the address to use: a compose service's name becomes
# its container's address; None means that service has no running container yet.
Resolver = Callable[[str], "str | None"]
# Given a container port, a note on where the service publishes it when that is not the
# same port on the host ("" otherwise), for a refused `localhost` check.
PortHint = Callable[[int], str]
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


# An `exec` attempt may run until the check's deadline (the service's own `timeout`, or
# the overall one); below this much time left it still gets this much.
EXEC_ATTEMPT_MIN = 0.5
# Every command StackCI runs in a container carries this variable (a fresh value per
# attempt), so that an attempt given up can be found and killed inside the container,
# children included: the engine has no call that stops an exec.
ATTEMPT_VARIABLE = "STACKCI_ATTEMPT"
_KILL_SCRIPT = (f'for p in /proc/[0-9]*; do grep -q "{ATTEMPT_VARIABLE}=$1" "$p/environ" '
                '2>/dev/null && kill -9 "${p#/proc/}" 2>/dev/null; done; true')
# A container's own healthcheck, run by StackCI between the engine's runs of it: first
# HEALTHCHECK_MIN_SPACING s after the container starts, then with pauses that double up
# to half its interval (so the engine's wait is at least halved), kept within
# HEALTHCHECK_MIN_SPACING-HEALTHCHECK_MAX_SPACING s. One whose interval is at most twice
# HEALTHCHECK_MIN_SPACING (0.5 s) is left to the engine, which is as quick.
HEALTHCHECK_MIN_SPACING = 0.25
HEALTHCHECK_MAX_SPACING = 2.0
# At most this many healthcheck runs start per second across the whole stack, so that
# many services starting at once do not swamp the engine with execs.
HEALTHCHECK_RUNS_PER_SECOND = 20.0
DOCKER_DEFAULT_HEALTH_SECONDS = 30.0  # the engine's default interval and timeout
# How much of a body or a command's output an attempt keeps (for the smoke checks).
OUTPUT_KEPT = 2000
# A `log` check searches at most this much of one line (its end).
MAX_LINE = 1 << 20


class Probe(Protocol):
    # The longest pause between attempts, if the probe itself knows it (else the
    # service's interval).
    spacing: float | None

    def attempt(self) -> Attempt: ...

    def close(self) -> None: ...


class HttpProbe:
    spacing: float | None = None

    def __init__(self, check: Check, resolve: Resolver, hint: PortHint | None = None,
                 timeout: tuple[float, float] = HTTP_TIMEOUT) -> None:
        self.check = check
        self._resolve = resolve
        self._hint = hint
        self._timeout = timeout  # connect, read
        self._session = requests.Session()
        # Readiness, not trust: a local service's self-signed certificate is fine here.
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    def attempt(self) -> Attempt:
        parts = urlsplit(self.check.target)
        host = parts.hostname or ""
        address = self._resolve(host)
        if address is None:
            return Attempt(False, f"{host} has no running container to reach yet")
        netloc = f"[{address}]" if ":" in address else address
        if parts.port:
            netloc += f":{parts.port}"
        url = urlunsplit(parts._replace(netloc=netloc))
        headers = {"Host": parts.netloc.rpartition("@")[2], "User-Agent": "stackci"}
        try:
            response = self._session.get(url, headers=headers, timeout=self._timeout,
                                         allow_redirects=True, verify=False)
        except requests.ConnectionError as exc:
            return Attempt(False, _connection_problem(exc)
                           + _hint(self._hint, host, parts.port or _default_port(parts.scheme)))
        except requests.Timeout:
            return Attempt(False, "did not answer in time")
        except requests.RequestException as exc:
            return Attempt(False, f"failed: {type(exc).__name__}")
        status = response.status_code
        said = response.text[:OUTPUT_KEPT]
        if not self.check.status.accepts(status):
            return Attempt(False, f"answered {status}", output=said)
        if self.check.body and not self.check.body.search(response.text):
            return Attempt(False, f"answered {status} without /{self.check.body.pattern}/ "
                                  "in the body", output=said)
        return Attempt(True, f"answered {status}", output=said)

    def close(self) -> None:
        self._session.close()


class TcpProbe:
    spacing: float | None = None

    def __init__(self, check: Check, resolve: Resolver, hint: PortHint | None = None) -> None:
        self.check = check
        self._resolve = resolve
        self._hint = hint

    def attempt(self) -> Attempt:
        host, _, port = self.check.target.rpartition(":")
        address = self._resolve(host)
        if address is None:
            return Attempt(False, f"{host} has no running container to reach yet")
        try:
            with socket.create_connection((address, int(port)), timeout=TCP_TIMEOUT) as conn:
                conn.settimeout(TCP_SETTLE)
                try:
                    if conn.recv(1) == b"":
                        return Attempt(False, "closed the connection at once")
                except TimeoutError:
                    pass  # open and quiet: a server waiting for its client to speak
                except ConnectionResetError:
                    return Attempt(False, "reset the connection at once")
        except ConnectionRefusedError:
            return Attempt(False, "refused the connection" + _hint(self._hint, host, int(port)))
        except TimeoutError:
            return Attempt(False, "did not accept a connection in time")
        except OSError as exc:
            return Attempt(False, f"could not be reached ({exc.strerror or exc})")
        return Attempt(True, "accepted a connection")

    def close(self) -> None:
        pass


class ExecProbe:
    """Runs the command in the container; ready when it exits 0."""

    spacing: float | None = None

    def __init__(self, check: Check, client: docker.DockerClient, container_id: str,
                 deadline: float | None = None) -> None:
        self.check = check
        self._api = client.api
        self._container_id = container_id
        self._argv = list(check.argv)
        self._deadline = deadline  # seconds since the epoch; None: no limit of its own
        self._running: threading.Thread | None = None  # the last attempt's exec
        self._tag = ""  # the last attempt's ATTEMPT_VARIABLE value

    def attempt(self) -> Attempt:
        limit = None if self._deadline is None else \
            max(self._deadline - time.time(), EXEC_ATTEMPT_MIN)
        outcome = self._run(self._argv, limit)
        if outcome.detail.startswith("did not finish"):
            self._kill()  # its time is up: it must not go on running in the container
        return outcome

    def _run(self, argv: list[str], limit: float | None) -> Attempt:
        # A command can hang (a client with no timeout of its own, a broker that is not
        # up yet): an attempt gets `limit` seconds (None: as long as it takes).
        done: queue.Queue[tuple[bytes | str, object] | BaseException] = queue.Queue(1)
        self._tag = tag = uuid.uuid4().hex

        def run() -> None:
            try:
                exec_id = self._api.exec_create(self._container_id, argv, stdout=True,
                                                stderr=True,
                                                environment={ATTEMPT_VARIABLE: tag})
                output = self._api.exec_start(exec_id)
                done.put((output, self._api.exec_inspect(exec_id).get("ExitCode")))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting side
                done.put(exc)

        self._running = threading.Thread(target=run, daemon=True, name="exec-attempt")
        self._running.start()
        try:
            outcome = done.get(timeout=limit)
        except queue.Empty:
            assert limit is not None
            return Attempt(False, f"did not finish in {limit:.3g} s")
        if isinstance(outcome, docker.errors.APIError):
            return Attempt(False, f"could not run: {outcome.explanation or outcome}")
        if isinstance(outcome, BaseException):
            raise outcome
        output, code = outcome
        text = output.decode("utf-8", "replace") if isinstance(output, bytes) else str(output)
        last = _last_line(text)
        said = text[-OUTPUT_KEPT:]
        if code == 0:
            return Attempt(True, "exited 0", output=said)
        return Attempt(False, f"exited {code}" + (f": {last}" if last else ""), output=said)

    def _kill(self) -> None:
        """Kill what the last attempt started in the container, if it still runs (in a
        thread of its own: a stop must not wait for the engine)."""
        if self._running is None or not self._running.is_alive():
            return
        thread = threading.Thread(target=_kill_attempt,
                                  args=(self._api, self._container_id, self._tag),
                                  daemon=True, name="exec-kill")
        with _KILLS_LOCK:
            _KILLS.append(thread)
        thread.start()

    def close(self) -> None:
        self._kill()


_KILLS: list[threading.Thread] = []
_KILLS_LOCK = threading.Lock()


def _kill_attempt(api: Any, container_id: str, tag: str) -> None:
    # Needs a shell with grep in the container; where there is none (a distroless
    # image) the attempt runs on until it ends by itself.
    with contextlib.suppress(docker.errors.DockerException, requests.RequestException):
        exec_id = api.exec_create(container_id, ["/bin/sh", "-c", _KILL_SCRIPT, "sh", tag])
        api.exec_start(exec_id)


def wait_for_kills(timeout: float) -> None:
    """Give the kills of abandoned attempts up to `timeout` seconds to be done (the
    process must not exit and leave a hung command running in a container)."""
    end = time.monotonic() + timeout
    with _KILLS_LOCK:
        pending, _KILLS[:] = list(_KILLS), []
    for thread in pending:
        thread.join(max(0.0, end - time.monotonic()))


class RunBudget:
    """Spreads the starts of runs shared by many probes: at most `per_second` a second."""

    def __init__(self, per_second: float) -> None:
        self._gap = 1 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def wait_turn(self, stop: threading.Event) -> bool:
        """Wait for the next free turn; False if `stop` was set meanwhile."""
        with self._lock:
            now = time.monotonic()
            turn = max(now, self._next)
            self._next = turn + self._gap
        return turn <= now or not stop.wait(turn - now)


class HealthcheckProbe(ExecProbe):
    """Runs the container's own healthcheck command in it, as the engine does (the
    container's user, environment and shell; the healthcheck's own timeout), so that a
    service is known healthy as soon as its healthcheck passes rather than at the
    engine's next run of it (by default 30 s apart). The engine's verdict still counts
    whenever it comes first. Final (and silent) when the container has no healthcheck
    to run or the engine runs it often enough itself. A run that outlasts its timeout is
    left to finish before the next one starts: a hung check must not pile up execs."""

    def __init__(self, client: docker.DockerClient, container_id: str,
                 interval: float | None, budget: RunBudget) -> None:
        super().__init__(Check("healthy"), client, container_id)
        self._limit: float = DOCKER_DEFAULT_HEALTH_SECONDS  # its own timeout, once read
        self._interval = interval  # the service's own `interval`, if the wait gave one
        self._budget = budget
        self._closed = threading.Event()
        self._command: list[str] | None = None

    def attempt(self) -> Attempt:
        if self._command is None:
            attrs = self._api.inspect_container(self._container_id)
            plan = healthcheck_plan(attrs.get("Config") or {})
            if plan is None:
                return Attempt(False, "", final=True)
            self._command, self._limit, engine_interval = plan
            if engine_interval <= 2 * HEALTHCHECK_MIN_SPACING:
                return Attempt(False, "", final=True)
            self.spacing = self._interval or min(max(engine_interval / 2,
                                                     HEALTHCHECK_MIN_SPACING),
                                                 HEALTHCHECK_MAX_SPACING)
        if self._running is not None and self._running.is_alive():
            return Attempt(False, f"did not finish in {self._limit:g} s")
        if not self._budget.wait_turn(self._closed):
            return Attempt(False, "stopped", final=True)
        return self._run(self._command, self._limit)

    def close(self) -> None:
        self._closed.set()
        super().close()


def healthcheck_plan(config: dict[str, Any]) -> tuple[list[str], float, float] | None:
    """From a container's `Config`: the healthcheck's command line as the engine runs
    it, its timeout and its interval (seconds); None without a healthcheck."""
    healthcheck = config.get("Healthcheck") or {}
    test = list(healthcheck.get("Test") or [])
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD":
        command = test[1:]
    elif test[0] == "CMD-SHELL":
        command = [*(config.get("Shell") or ["/bin/sh", "-c"]), *test[1:]]
    else:
        return None
    if not command:
        return None

    def seconds(key: str) -> float:
        return (healthcheck.get(key) or 0) / 1e9 or DOCKER_DEFAULT_HEALTH_SECONDS

    return command, seconds("Timeout"), seconds("Interval")


class LogProbe:
    """Follows the container's log, from its first line or from `since`, until the
    pattern shows up."""

    spacing: float | None = None

    def __init__(self, check: Check, client: docker.DockerClient, container_id: str,
                 since: float | None = None) -> None:
        self.check = check
        self._api = client.api
        self._container_id = container_id
        self._since = since  # from when on (seconds since the epoch); None: all of it
        self._stream: Any = None
        self._closed = threading.Event()

    def attempt(self) -> Attempt:
        pattern = self.check.pattern or re.compile(re.escape(self.check.target))
        try:
            self._stream = self._api.logs(self._container_id, stream=True, follow=True,
                                          stdout=True, stderr=True, since=self._since)
            for line in _lines(self._stream):
                if pattern.search(line):
                    return Attempt(True, f"logged {line.strip()[:200]!r}")
        except (docker.errors.APIError, requests.RequestException) as exc:
            if self._closed.is_set():
                return Attempt(False, "stopped watching", final=True)
            return Attempt(False, f"log could not be read: {exc}")
        return Attempt(False, "its log ended without it", final=True)

    def close(self) -> None:
        self._closed.set()
        if self._stream is not None:
            with contextlib.suppress(Exception):  # closing a finished stream may fail
                self._stream.close()


class ProbeRunner:
    """Runs a probe in a thread until it passes, ends, or `stop()` is called; every
    attempt goes to `report`."""

    def __init__(self, probe: Probe, interval: float | None,
                 report: Callable[[Attempt], None], first_delay: float = FIRST_DELAY,
                 start_after: float = 0.0) -> None:
        self.probe = probe
        self._interval = interval or DEFAULT_INTERVAL
        self._first_delay = first_delay
        self._start_after = start_after  # seconds before the first attempt
        self._report = report
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="probe")

    def start(self) -> ProbeRunner:
        self._thread.start()
        return self

    def _loop(self) -> None:
        delay = min(self._first_delay, self._interval)
        if self._start_after and self._stop.wait(self._start_after):
            return
        while not self._stop.is_set():
            try:
                attempt = self.probe.attempt()
            except Exception as exc:  # noqa: BLE001 - a probe must never kill the watcher
                attempt = Attempt(False, f"check failed: {type(exc).__name__}: {exc}")
            if self._stop.is_set():
                return
            self._report(attempt)
            if attempt.ok or attempt.final or self._stop.wait(delay):
                return
            delay = min(delay * 2, self.probe.spacing or self._interval)

    def stop(self) -> None:
        self._stop.set()
        self.probe.close()


def make_probe(check: Check, client: docker.DockerClient, container_id: str | None,
               resolve: Resolver, *, log_since: float | None = None,
               deadline: float | None = None, hint: PortHint | None = None) -> Probe:
    if check.kind == "http":
        return HttpProbe(check, resolve, hint)
    if check.kind == "tcp":
        return TcpProbe(check, resolve, hint)
    assert container_id is not None
    if check.kind == "exec":
        return ExecProbe(check, client, container_id, deadline)
    if check.kind == "log":
        return LogProbe(check, client, container_id, log_since)
    raise ValueError(f"{check.kind} is not an active check")


def _lines(stream: Iterator[bytes]) -> Iterator[str]:
    """The stream's lines. Only a chunk holding a newline is split (a long line costs
    linear time, not quadratic), and a line is kept to its last MAX_LINE bytes (a
    progress bar that never prints a newline cannot grow memory without bound)."""
    parts: list[bytes] = []
    size = 0
    for chunk in stream:
        if b"\n" not in chunk:
            parts.append(chunk)
            size += len(chunk)
            if size > 2 * MAX_LINE:
                parts = [b"".join(parts)[-MAX_LINE:]]
                size = MAX_LINE
            continue
        first, *middle, last = chunk.split(b"\n")
        parts.append(first)
        yield b"".join(parts)[-MAX_LINE:].decode("utf-8", "replace")
        for raw in middle:
            yield raw[-MAX_LINE:].decode("utf-8", "replace")
        parts, size = [last], len(last)
    rest = b"".join(parts)
    if rest:
        yield rest[-MAX_LINE:].decode("utf-8", "replace")


def _hint(hint: PortHint | None, host: str, port: int | None) -> str:
    if hint is None or port is None or host not in LOCAL_HOSTS:
        return ""
    return hint(port)


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _connection_problem(exc: requests.ConnectionError) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "refused the connection"
    if "reset" in text.lower() or "RemoteDisconnected" in text or "aborted" in text.lower():
        return "dropped the connection"
    if "timed out" in text:
        return "did not accept a connection in time"
    return "could not be reached"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""
