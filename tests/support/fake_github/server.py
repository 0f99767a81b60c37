"""`FakeGitHub`: a real HTTP server on loopback that answers like api.github.com.

Request pipeline: strip the GHES `/api/v3` prefix → `/_fake/` control endpoints and job
log downloads (no auth, not logged) → `slow` delays → answering faults → credentials
(401) → route (404) → write permission (403) → handler. Every API answer carries
GitHub's rate-limit headers and is appended to the request log.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from fake_github.faults import (
    WRITE_METHODS,
    Fault,
    Faults,
    LoggedRequest,
    RequestLog,
    fault_body,
)
from fake_github.render import Renderer, Urls
from fake_github.routes import ApiError, Reply, Request, dispatch, router
from fake_github.seed import dump_state, load_seed
from fake_github.state import GitHubState, NotFoundError, Token

GHES_PREFIX = "/api/v3"
RATE_LIMIT = 5000
RATE_WINDOW = 3600
ANONYMOUS_LIMIT = 60
READ_ONLY_MESSAGE = "Resource not accessible by integration"
JOB_LOGS = "/_fake/job-logs/"  # where job log requests redirect (GitHub's blob storage)


class RateCounter:
    """Per-user primary rate-limit accounting (an hourly window, as on GitHub)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # login -> (reset epoch, used)

    def snapshot(self, login: str | None, count: bool = False) -> dict[str, int]:
        limit = RATE_LIMIT if login else ANONYMOUS_LIMIT
        key = login or ""
        now = int(time.time())
        with self._lock:
            reset, used = self._windows.get(key, (now + RATE_WINDOW, 0))
            if now >= reset:
                reset, used = now + RATE_WINDOW, 0
            used += int(count)
            self._windows[key] = (reset, used)
        return {"limit": limit, "remaining": max(limit - used, 0), "reset": reset, "used": used}


@dataclass(frozen=True)
class Incoming:
    method: str
    target: str  # path and query as sent
    headers: Mapping[str, str]  # lower-cased names
    body: bytes


class FakeGitHub:
    """Start it, point PyGithub's `base_url` at `.url` (or `.ghes_url`), drive `.state`."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, state: GitHubState | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.state = state or GitHubState()
        self.faults = Faults()
        # Shortcuts, so a test says `fake_github.fail_next(...)`.
        self.fail_next = self.faults.fail_next
        self.apply_then_fail = self.faults.apply_then_fail
        self.secondary_rate_limit = self.faults.secondary_rate_limit
        self.exhaust_primary = self.faults.exhaust_primary
        self.slow = self.faults.slow
        self.log = RequestLog()
        self.rates = RateCounter()
        self.errors: list[str] = []  # tracebacks of the fake's own bugs (answered 500)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle -----------------------------------------------------------------

    def start(self) -> FakeGitHub:
        if self._server is not None:
            raise RuntimeError("already started")
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.05,),
            name=f"fake-github:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The API root, for `base_url` / `GITHUB_API_URL`."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def ghes_url(self) -> str:
        """The same server as GitHub Enterprise Server clients address it."""
        return f"{self.url}{GHES_PREFIX}"

    # ----- log (shortcuts) --------------------------------------------------------

    def requests(self, method: str | None = None, path: str | None = None) -> list[LoggedRequest]:
        """Logged API requests, optionally by method and path regex (full match)."""
        return self.log.entries(method, path)

    def reset_log(self) -> None:
        self.log.reset()

    # ----- request handling ----------------------------------------------------------

    def respond(self, incoming: Incoming) -> Reply:
        raw_path, _, raw_query = incoming.target.partition("?")
        prefix = GHES_PREFIX if _has_prefix(raw_path) else ""
        path = raw_path[len(prefix) :] or "/"
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        if path.startswith(JOB_LOGS):
            return self._job_log(incoming.method, path, query)
        if path.startswith("/_fake/"):
            return self._control(incoming.method, path, incoming.body)

        token = self._token(incoming.headers)
        delay = self.faults.take_delay(incoming.method, path)
        if delay:
            time.sleep(delay)
        fault = self.faults.take(incoming.method, path)
        request_id = uuid.uuid4().hex[:16].upper()
        if fault is not None and fault.kind != "applied":
            reply = self._fault_reply(fault, token, request_id)
        else:
            host = incoming.headers.get("host") or f"{self.host}:{self.port}"
            urls = Urls(api=f"http://{host}{prefix}", html=f"http://{host}")
            reply = self._api(incoming, path, query, token, urls)
            if fault is not None:  # carried out, and the answer lost
                reply = self._fault_reply(fault, token, request_id)
        reply.headers.setdefault("X-GitHub-Request-Id", request_id)
        self.log.append(
            LoggedRequest(
                incoming.method,
                path,
                query,
                reply.status,
                time.time(),
                token.login if token else None,
                fault.kind if fault else None,
            )
        )
        return reply

    def _token(self, headers: Mapping[str, str]) -> Token | None:
        scheme, _, value = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() not in ("token", "bearer"):
            return None
        return self.state.token(value.strip())

    def _api(
        self, incoming: Incoming, path: str, query: dict[str, str], token: Token | None, urls: Urls
    ) -> Reply:
        counted = token is not None and path.rstrip("/") != "/rate_limit"
        rate = self.rates.snapshot(token.login if token else None, count=counted)
        try:
            reply = self._route(incoming, path, query, token, urls, rate)
        except ApiError as error:
            reply = Reply(error.status, error.body())
        except Exception:  # the fake's own bug: answer 500, keep the traceback for the test
            self.errors.append(traceback.format_exc())
            print(self.errors[-1], file=sys.stderr)
            reply = Reply(500, {"message": "fake_github internal error"})
        reply.headers.update(_rate_headers(rate))
        return reply

    def _route(
        self,
        incoming: Incoming,
        path: str,
        query: dict[str, str],
        token: Token | None,
        urls: Urls,
        rate: dict[str, int],
    ) -> Reply:
        """Credentials, then route, then write permission, then the handler."""
        if token is None:
            raise ApiError(401, "Bad credentials")
        if incoming.method in WRITE_METHODS and token.permission != "write":
            router.match(incoming.method, path)  # unknown routes stay 404
            raise ApiError(403, READ_ONLY_MESSAGE)
        renderer = Renderer(self.state, urls)
        body = _parse_json(incoming.body)
        request = Request(incoming.method, path, query, body, token, self.state, renderer, rate)
        return dispatch(router, request)

    def _fault_reply(self, fault: Fault, token: Token | None, request_id: str) -> Reply:
        user_id = None
        if token is not None:
            user_id = self.state.user(token.login).id
        body = fault_body(fault, request_id, user_id)
        rate = self.rates.snapshot(token.login if token else None)
        headers = _rate_headers(rate)
        if fault.kind == "primary" and fault.until is not None:
            headers.update(
                {
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Used": str(rate["limit"]),
                    "X-RateLimit-Reset": str(fault.until),
                }
            )
        if fault.kind == "secondary" and fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        return Reply(fault.status, body, headers)

    # ----- job log downloads ---------------------------------------------------------

    def _job_log(self, method: str, path: str, query: Mapping[str, str]) -> Reply:
        """`/_fake/job-logs/{job_id}?token=...`: the URL `GET .../actions/jobs/{id}/logs`
        redirects to. Like GitHub's pre-signed URL it needs no credentials, only its
        token; a wrong token is refused, as a tampered signature is."""
        job_id = path.removeprefix(JOB_LOGS).rstrip("/")
        if method != "GET" or not job_id.isdigit():
            return Reply(404, b"Not Found", {"Content-Type": "text/plain"})
        try:
            _, job = self.state.signed_job(int(job_id), query.get("token", ""))
        except NotFoundError:
            return Reply(403, b"Signature invalid", {"Content-Type": "text/plain"})
        if job.log_expired:
            return Reply(404, b"Log expired", {"Content-Type": "text/plain"})
        return Reply(200, job.log.encode(), {"Content-Type": "text/plain; charset=utf-8"})

    # ----- control endpoints ---------------------------------------------------------

    def _control(self, method: str, path: str, raw: bytes) -> Reply:
        """`/_fake/state`, `/_fake/faults`, `/_fake/log`: drive a server started by hand."""
        try:
            body = _parse_json(raw)
            return self._control_route(method, path.rstrip("/"), body)
        except (ApiError, ValueError, TypeError, KeyError) as error:
            return Reply(400, {"message": f"{type(error).__name__}: {error}"})

    def _control_route(self, method: str, path: str, body: Any) -> Reply:
        match method, path:
            case "GET", "/_fake/state":
                return Reply(200, dump_state(self.state))
            case "POST", "/_fake/state":
                load_seed(self.state, body or {})
                return Reply(200, dump_state(self.state))
            case "DELETE", "/_fake/state":
                self.state.reset()
                return Reply(204)
            case "GET", "/_fake/faults":
                return Reply(200, [f.describe() for f in self.faults.active()])
            case "POST", "/_fake/faults":
                specs = body if isinstance(body, list) else [body]
                return Reply(201, [self.faults.add_spec(s).describe() for s in specs])
            case "DELETE", "/_fake/faults":
                self.faults.clear()
                return Reply(204)
            case "GET", "/_fake/log":
                return Reply(200, [asdict(e) for e in self.log.entries()])
            case "DELETE", "/_fake/log":
                self.log.reset()
                return Reply(204)
        return Reply(404, {"message": "Not Found"})


def _has_prefix(path: str) -> bool:
    return path == GHES_PREFIX or path.startswith(f"{GHES_PREFIX}/")


def _parse_json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "Problems parsing JSON") from None


def _rate_headers(rate: Mapping[str, int]) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(rate["limit"]),
        "X-RateLimit-Remaining": str(rate["remaining"]),
        "X-RateLimit-Reset": str(rate["reset"]),
        "X-RateLimit-Used": str(rate["used"]),
        "X-RateLimit-Resource": "core",
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeGitHub) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Track keep-alive connections so stop() can end them: a pooled client connection
        # must not keep talking to a stopped fake.
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, stop()) is a scenario under test, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, like PyGithub's pooled session expects
    timeout = 60  # idle keep-alive connections end on their own

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        incoming = Incoming(self.command, self.path, headers, body)
        reply = self.server.fake.respond(incoming)
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        if isinstance(reply.body, bytes):
            payload = reply.body
        else:
            payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        if reply.body is not None and "Content-Type" not in reply.headers:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is the record."""
