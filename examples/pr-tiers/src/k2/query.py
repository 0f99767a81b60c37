"""The query engine's HTTP API: /health, and /v1/services (each backing service)."""

from __future__ import annotations

import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from k2.platform import services


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/health":
            self.reply(200, {"status": "ok"})
        elif self.path == "/v1/services":
            try:
                self.reply(200, services())
            except OSError as exc:
                self.reply(503, {"detail": str(exc)})
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
    # As PID 1 nothing stops on SIGTERM without a handler: `docker compose down` would wait.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = ThreadingHTTPServer(("0.0.0.0", 8000), Handler)  # noqa: S104  # nosec B104
    print("k2 query engine listening on :8000", flush=True)  # noqa: T201
    server.serve_forever()


if __name__ == "__main__":
    main()
