"""Telemetra's API, cut down to what the pipeline checks: /health, /api/v1/health (the
database, the cache and the broker, each asked over its own protocol) and
/api/v1/streams. The standard library only, so the example builds offline."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse


def postgres_ok(host: str, port: int) -> bool:
    """The server answers an SSLRequest with one byte, S or N."""
    with socket.create_connection((host, port), timeout=2) as conn:
        conn.sendall(struct.pack("!ii", 8, 80877103))
        return conn.recv(1) in (b"S", b"N")


def redis_ok(url: str) -> bool:
    parsed = urlparse(url)
    with socket.create_connection((parsed.hostname or "redis", parsed.port or 6379),
                                  timeout=2) as conn:
        conn.sendall(b"PING\r\n")
        return conn.recv(7).startswith(b"+PONG")


def kafka_ok(servers: str) -> bool:
    host, _, port = servers.split(",", 1)[0].rpartition(":")
    with socket.create_connection((host, int(port)), timeout=2):
        return True


def check(probe, *args: object) -> str:  # type: ignore[no-untyped-def]
    try:
        return "ok" if probe(*args) else "unexpected answer"
    except OSError as exc:
        return f"unreachable: {exc}"


def health() -> dict[str, str]:
    env = os.environ
    return {
        "database": check(postgres_ok, env.get("POSTGRES_HOST", "postgres"),
                          int(env.get("POSTGRES_PORT", "5432"))),
        "cache": check(redis_ok, env.get("REDIS_URL", "redis://redis:6379")),
        "broker": check(kafka_ok, env.get("KAFKA_BOOTSTRAP_SERVERS", "kafka:29092")),
    }


STREAMS = [{"id": 1, "channel": "demo", "live": False}]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/health":
            self.reply(200, {"status": "ok"})
        elif self.path == "/api/v1/health":
            parts = health()
            healthy = all(v == "ok" for v in parts.values())
            self.reply(200 if healthy else 503,
                       {"status": "ok" if healthy else "degraded", **parts})
        elif self.path == "/api/v1/streams":
            self.reply(200, STREAMS)
        else:
            self.reply(404, {"detail": "Not Found"})

    def reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    # As PID 1 nothing stops on SIGTERM without a handler: `docker compose down` would
    # wait its 10 s and kill.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # In its container, for the other services and the published port.
    server = ThreadingHTTPServer(("0.0.0.0", 8000), Handler)  # noqa: S104
    print(f"{os.environ.get('API_TITLE', 'API')} listening on :8000", flush=True)  # noqa: T201
    server.serve_forever()


if __name__ == "__main__":
    main()
