"""The StackCI image: its size and its warm start (`docker run --rm IMAGE --version`),
against the floor any Python-in-Docker action pays: `python -c pass` in the bare base.

Run: .venv/bin/python benchmarks/image.py [--rounds 10]"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def image_tag() -> str:
    env = {**os.environ, "STACKCI_IMAGE": "build"}
    env.setdefault("STACKCI_PYTHON_IMAGE", "python:3.12-slim")
    return subprocess.run(["bash", str(ROOT / "launcher/launch.sh"), "--image"], env=env,
                          capture_output=True, text=True, check=True).stdout.strip()


def size_mb(image: str) -> float:
    out = subprocess.run(["docker", "image", "inspect", image], capture_output=True,
                         text=True, check=True).stdout
    return float(json.loads(out)[0]["Size"]) / 1e6


def timed(cmd: list[str], rounds: int) -> list[float]:
    subprocess.run(cmd, capture_output=True, check=True)  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    image = image_tag()
    base = os.environ.get("STACKCI_PYTHON_IMAGE", "python:3.12-slim")
    ours = timed(["docker", "run", "--rm", image, "--version"], args.rounds)
    floor = timed(["docker", "run", "--rm", base, "python3", "-c", "pass"], args.rounds)
    total, base_size = size_mb(image), size_mb(base)
    print(f"image {image}: {total:.0f} MB ({total - base_size:.0f} MB on top of {base}, "
          f"{base_size:.0f} MB)")
    print(f"docker run --rm IMAGE --version: median {statistics.median(ours):.3f} s, "
          f"max {max(ours):.3f} s over {args.rounds} warm runs")
    print(f"floor, docker run --rm {base} python3 -c pass: median "
          f"{statistics.median(floor):.3f} s")
    print(f"ratio to the floor: {statistics.median(ours) / statistics.median(floor):.2f}")


if __name__ == "__main__":
    main()
