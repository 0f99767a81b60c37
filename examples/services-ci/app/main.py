"""The HTTP API: `/`, `/health`, `/database/status`, `/api/v1/cache/stats` and
`/api/v1/momentum/<ticker>` (scores cached in Redis for a minute)."""

from __future__ import annotations

import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app import VERSION
from app.momentum import score_for
from app.store import Cache, Database, migrate


def database_status() -> dict[str, object]:
    db = Database()
    try:
        [(count,)] = db.query("SELECT count(*) FROM portfolios")
    finally:
        db.close()
    return {"status": "connected", "portfolios": int(count or 0)}


def cache_stats() -> dict[str, object]:
    cache = Cache()
    try:
        return {"status": "connected", "keys": cache.command("DBSIZE")}
    finally:
        cache.close()


def momentum(ticker: str) -> dict[str, object]:
    cache = Cache()
    try:
        cached = cache.command("GET", f"momentum:{ticker.upper()}")
        if isinstance(cached, str):
            return {**json.loads(cached), "cached": True}
        score = score_for(ticker)
        cache.command("SET", f"momentum:{ticker.upper()}", json.dumps(score), "EX", 60)
        return {**score, "cached": False}
    finally:
        cache.close()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.rstrip("/") or "/"
        try:
            if path == "/":
                self.reply(200, {"name": "AlphaVelocity", "version": VERSION})
            elif path == "/health":
                self.reply(200, {"status": "ok"})
            elif path == "/database/status":
                self.reply(200, database_status())
            elif path == "/api/v1/cache/stats":
                self.reply(200, cache_stats())
            elif path.startswith("/api/v1/momentum/"):
                self.reply(200, momentum(path.rsplit("/", 1)[1]))
            else:
                self.reply(404, {"detail": "Not Found"})
        except KeyError:
            self.reply(404, {"detail": "Unknown ticker"})
        except OSError as exc:
            self.reply(503, {"detail": f"a dependency is unavailable: {exc}"})

    def reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    signal.signal(
        signal.SIGTERM, lambda *_: sys.exit(0)
    )  # PID 1: stop at once on `down`
    migrate()  # the schema, before the first request
    server = ThreadingHTTPServer(
        ("", 8000), Handler
    )  # every interface: the published port
    sys.stdout.write(f"AlphaVelocity {VERSION} listening on :8000\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
