#!/usr/bin/env python3
"""nginx as a static site plus reverse proxy, the part of nginx:alpine a frontend image
uses: each `server` in /etc/nginx/conf.d/*.conf gives `listen`, `root`, `try_files ...
/index.html` and `location PREFIX { proxy_pass URL; }`. `nginx -t` checks the files as
the real one does (braces balanced), and a bad one stops the start."""

import http.client
import re
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

CONF_DIR = Path("/etc/nginx/conf.d")


def load() -> str:
    text = "".join(p.read_text() for p in sorted(CONF_DIR.glob("*.conf")))
    if not text.strip():
        sys.exit('nginx: [emerg] no "events" section in configuration')
    if text.count("{") != text.count("}"):
        sys.exit('nginx: [emerg] unexpected end of file, expecting "}" in '
                 f"{CONF_DIR}/default.conf")
    return text


def settings(text: str) -> tuple[int, Path, bool, list[tuple[str, str]]]:
    listen = re.search(r"^\s*listen\s+(?:[\d.]+:)?(\d+)", text, re.M)
    root = re.search(r"^\s*root\s+([^;]+);", text, re.M)
    proxies = []
    for prefix, body in re.findall(r"location\s+(\S+)\s*\{([^}]*)\}", text):
        target = re.search(r"proxy_pass\s+([^;\s]+)\s*;", body)
        if target:
            proxies.append((prefix, target.group(1)))
    proxies.sort(key=lambda p: -len(p[0]))  # the longest prefix wins, as in nginx
    return (int(listen.group(1)) if listen else 80,
            Path(root.group(1).strip() if root else "/usr/share/nginx/html"),
            "try_files" in text and "/index.html" in text, proxies)


def main() -> None:
    if "-v" in sys.argv[1:]:
        sys.exit("nginx version: nginx/1.27.3")
    text = load()
    if "-t" in sys.argv[1:]:
        print("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
              "nginx: configuration file /etc/nginx/nginx.conf test is successful", file=sys.stderr)
        return
    port, root, fallback, proxies = settings(text)

    class Handler(BaseHTTPRequestHandler):
        server_version = "nginx/1.27.3"

        def handle_any(self) -> None:
            for prefix, target in proxies:
                if self.path.startswith(prefix):
                    self.proxy(prefix, target)
                    return
            self.static()

        do_GET = do_POST = do_PUT = do_DELETE = handle_any

        def do_HEAD(self) -> None:
            self.static(head=True)

        def proxy(self, prefix: str, target: str) -> None:
            url = urlsplit(target)
            # Without a URI after the host, the request URI goes as it came; with one,
            # it replaces the location's prefix.
            path = self.path if url.path == "" else url.path + self.path[len(prefix):]
            length = int(self.headers.get("Content-Length") or 0)
            try:
                conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
                conn.request(self.command, path, self.rfile.read(length) if length else None,
                             {k: v for k, v in self.headers.items() if k.lower() != "host"})
                answer = conn.getresponse()
                body, status = answer.read(), answer.status
                dropped = ("transfer-encoding", "connection", "content-length")
                headers = [(k, v) for k, v in answer.getheaders() if k.lower() not in dropped]
            except OSError as exc:
                sys.stderr.write(f'[error] connect() failed ({exc}) while connecting to upstream, '
                                 f'upstream: "{target}{path}"\n')
                body, status, headers = b"<html><body>502 Bad Gateway</body></html>", 502, []
            self.send(status, body, headers)

        def static(self, head: bool = False) -> None:
            path = urlsplit(self.path).path
            candidate = (root / path.lstrip("/")).resolve()
            if candidate.is_dir():
                candidate = candidate / "index.html"
            if not candidate.is_file() or root.resolve() not in candidate.parents:
                candidate = root / "index.html" if fallback else Path("/nonexistent")
            if candidate.is_file():
                self.send(200, candidate.read_bytes(), [("Content-Type", "text/html")], head)
            else:
                self.send(404, b"<html><body>404 Not Found</body></html>",
                          [("Content-Type", "text/html")], head)

        def send(self, status: int, body: bytes, headers: list[tuple[str, str]],
                 head: bool = False) -> None:
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            print(f'{self.address_string()} - - [{self.log_date_time_string()}] {format % args}',
                  flush=True)

    for sig in (signal.SIGTERM, signal.SIGQUIT, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(0))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    print("/docker-entrypoint.sh: Configuration complete; ready for start up", flush=True)
    print("[notice] 1#1: start worker processes", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
