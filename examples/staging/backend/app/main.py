"""The API: /health, /api/v1/health (the LLM server, the cache and Prometheus, each asked
over its own protocol), /api/v1/analyze (a signal from the pulled model) and /metrics.
The standard library only, so the image builds with nothing but its test tools."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

REQUESTS = {"total": 0}


def http_get(url: str) -> tuple[int, bytes]:
    parsed = urlparse(url)
    conn = http.client.HTTPConnection(parsed.hostname or "localhost", parsed.port or 80, timeout=3)
    try:
        conn.request("GET", f"{parsed.path or '/'}?{parsed.query}" if parsed.query else parsed.path or "/")
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def redis_ping(url: str) -> bool:
    parsed = urlparse(url)
    with socket.create_connection((parsed.hostname or "redis", parsed.port or 6379), timeout=2) as conn:
        conn.sendall(b"PING\r\n")
        return conn.recv(7).startswith(b"+PONG")


def models(ollama: str) -> list[str]:
    """The models the LLM server has pulled."""
    status, body = http_get(f"{ollama}/api/tags")
    if status != 200:
        return []
    return [m["name"] for m in json.loads(body).get("models", [])]


def check(probe, *args: object) -> str:  # type: ignore[no-untyped-def]
    try:
        return "ok" if probe(*args) else "unexpected answer"
    except (OSError, ValueError) as exc:
        return f"unreachable: {exc}"


def health() -> dict[str, str]:
    env = os.environ
    ollama = env.get("OLLAMA_HOST", "http://ollama:11434")
    return {
        "llm": check(lambda: http_get(f"{ollama}/api/version")[0] == 200),
        "cache": check(redis_ping, env.get("REDIS_URL", "redis://redis:6379")),
        "metrics": check(lambda: http_get(f"{env.get('PROMETHEUS_URL', 'http://prometheus:9090')}/-/ready")[0] == 200),
    }


def decide(asset: str, change_pct: float) -> str:
    """The signal a mock platform acts on: a rule the model's answer is checked against."""
    if change_pct >= 2:
        return "SELL"
    if change_pct <= -2:
        return "BUY"
    return "HOLD"


def analyze(asset: str, change_pct: float) -> tuple[int, dict[str, object]]:
    env = os.environ
    model = env.get("OLLAMA_MODEL", "llama3.2:3b-instruct-fp16")
    pulled = models(env.get("OLLAMA_HOST", "http://ollama:11434"))
    if model not in pulled:
        return 503, {"detail": f"model {model} is not pulled (have: {', '.join(pulled) or 'none'})"}
    return 200, {
        "asset": asset,
        "action": decide(asset, change_pct),
        "model": model,
        "platform": env.get("TRADING_PLATFORM", "mock"),
        "signal_only": env.get("SIGNAL_ONLY_DEFAULT", "true") == "true",
    }


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        REQUESTS["total"] += 1
        url = urlparse(self.path)
        if url.path == "/health":
            self.reply(200, {"status": "ok"})
        elif url.path == "/api/v1/health":
            parts = health()
            healthy = all(v == "ok" for v in parts.values())
            self.reply(200 if healthy else 503, {"status": "ok" if healthy else "degraded", **parts})
        elif url.path == "/api/v1/analyze":
            query = parse_qs(url.query)
            try:
                change = float(query.get("change", ["0"])[0])
            except ValueError:
                self.reply(422, {"detail": "change must be a number"})
                return
            self.reply(*analyze(query.get("asset", ["BTCUSD"])[0], change))
        elif url.path == "/metrics":
            data = f"ffe_http_requests_total {REQUESTS['total']}\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.reply(404, {"detail": "Not Found"})

    def reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def main() -> None:
    # As PID 1 nothing stops on SIGTERM without a handler: `docker compose down` would wait.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # In its container, for the frontend's proxy, Prometheus and the published port.
    server = ThreadingHTTPServer(("0.0.0.0", 8000), Handler)  # noqa: S104  # nosec B104
    print(f"Finance Feedback Engine API ({os.environ.get('ENVIRONMENT', 'dev')}) on :8000", flush=True)  # noqa: T201
    server.serve_forever()


if __name__ == "__main__":
    main()
