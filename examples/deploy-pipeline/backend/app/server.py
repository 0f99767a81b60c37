"""The API: `/api/v1/health/` (the process is up) and `/api/v1/status/` (the
environment, the version, and whether the database and the cache answer, each asked
over its own protocol)."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app import VERSION


def postgres_ok(host: str) -> bool:
    """The server answers an SSLRequest with one byte, S or N."""
    with socket.create_connection((host, 5432), timeout=2) as conn:
        conn.sendall(struct.pack("!ii", 8, 80877103))
        return conn.recv(1) in (b"S", b"N")


def redis_ok(host: str) -> bool:
    with socket.create_connection((host, 6379), timeout=2) as conn:
        conn.sendall(b"PING\r\n")
        return conn.recv(7).startswith(b"+PONG")


def check(probe, host: str) -> str:  # type: ignore[no-untyped-def]
    try:
        return "ok" if probe(host) else "unexpected answer"
    except OSError as exc:
        return f"unreachable: {exc}"


def status() -> dict[str, str]:
    env = os.environ
    return {
        "environment": env.get("APP_ENV", "development"),
        "version": VERSION,
        "database": check(postgres_ok, env.get("DB_HOST", "db")),
        "cache": check(redis_ok, env.get("REDIS_HOST", "redis")),
    }


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/api/v1/health/":
            self.reply(200, {"status": "ok"})
        elif self.path == "/api/v1/status/":
            body = status()
            up = body["database"] == body["cache"] == "ok"
            self.reply(
                200 if up else 503, {"status": "ok" if up else "degraded", **body}
            )
        else:
            self.reply(404, {"detail": "Not Found"})

    def reply(self, code: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1: stop at once
    server = ThreadingHTTPServer(("", 8000), Handler)  # every interface
    sys.stdout.write(
        f"backend {VERSION} ({os.environ.get('APP_ENV', 'development')}) up\n"
    )
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
