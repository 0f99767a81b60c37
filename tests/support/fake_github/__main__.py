"""Run the fake by hand, e.g. for `act` runs:

    PYTHONPATH=tests/support python -m fake_github --port 8765 --seed seed.json

Then drive it over HTTP: `POST /_fake/state` (seed), `POST /_fake/faults`
(`{"kind": "fail_next", "n": 2, "status": 502}`; `apply_then_fail` takes the same),
`GET /_fake/log`, `GET /_fake/state`.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from fake_github.seed import load_seed
from fake_github.server import FakeGitHub


def _read_seed(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yml", ".yaml"):
        return yaml.safe_load(text)
    return json.loads(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fake_github",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to bind; 0.0.0.0 lets act's containers reach it",
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=Path, help="seed file (JSON, or YAML by extension)")
    args = parser.parse_args(argv)

    fake = FakeGitHub(args.host, args.port)
    if args.seed:
        load_seed(fake.state, _read_seed(args.seed))
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with fake:
        # The first line is machine-readable, for scripts that start the fake.
        print(f"FAKE_GITHUB_URL={fake.url}", flush=True)
        print(f"listening on {args.host}:{fake.port} (GHES prefix: {fake.ghes_url})", flush=True)
        stopped.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
