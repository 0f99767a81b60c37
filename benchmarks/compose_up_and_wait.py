"""Benchmarks for compose-up-and-wait (not a timed test; prints figures and ratios).

1. Start to ready on a stack of healthchecked services: StackCI against
   `docker compose up -d --wait`, same stack, interleaved rounds, fresh containers each
   round. Target: ratio <= 1.0.
2. Detection latency: from the engine's `health_status: healthy` event (its own
   timestamp, read here from an independent event subscription) to StackCI marking the
   service ready (the timestamp in its debug line), p50/p95 over >= 20 services.
   Target: p95 <= 100 ms.
3. Time to report a crash: from the engine's `die` event to the StackCI process having
   exited with its failure report. Target: under 1 s.

Usage: python benchmarks/compose_up_and_wait.py [--rounds 5] [--services 10]
       [--latency-services 24] [--latency-rounds 2] [--crash-rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker

from stackci.core.docker import compose_binary

IMAGE = "busybox:1.36"
HEALTHY_SERVICE = """
  s{i}:
    image: {image}
    command: ["sh", "-c", "sleep {delay}; touch /tmp/ready; exec sleep 600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: {interval}
      timeout: 30s
      retries: 1000
"""
CRASHING_SERVICE = """
  crash:
    image: {image}
    command: ["sh", "-c", "sleep 1; echo 'fatal: cannot connect' >&2; exit 1"]
"""
_READY_MARK = re.compile(r"::debug::(\S+): ready mark ([\d.]+), trigger ([\d.]+)")


def healthy_stack(count: int, interval: str, delay: float) -> str:
    body = "".join(HEALTHY_SERVICE.format(i=i, image=IMAGE, interval=interval,
                                          delay=f"{delay + (i % 4) * 0.25:.2f}")
                   for i in range(count))
    return "services:" + body


@contextmanager
def project(compose_yaml: str) -> Iterator[tuple[str, Path]]:
    """A compose project in a temporary folder, removed afterwards whatever happens."""
    name = f"stackci-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "compose.yaml").write_text(compose_yaml)
        try:
            yield name, folder
        finally:
            down(name, folder)


def compose(name: str, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([compose_binary(), "--project-name", name, *args], cwd=folder,
                          capture_output=True, text=True, check=False)


def down(name: str, folder: Path) -> None:
    # Kill first and give in-flight health probes a moment: Docker 20.10's daemon panics
    # when a container is removed between a probe's exec create and exec start.
    compose(name, folder, "kill")
    time.sleep(0.3)
    compose(name, folder, "down", "--volumes", "--remove-orphans", "--timeout", "0")


def stackci(name: str, folder: Path, *extra: str, debug: bool = False
            ) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_", "STACKCI_"))}
    # As installed (in the image, by pip), StackCI's modules are byte-compiled.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if debug:  # Actions mode, so debug lines come out as ::debug:: on stdout
        env.update({"GITHUB_ACTIONS": "true", "RUNNER_DEBUG": "1"})
    cmd = [sys.executable, "-m", "stackci", "compose-up-and-wait", "--working-directory",
           str(folder), "--project-name", name, "--timeout", "3m", *extra]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    return time.perf_counter() - start, proc


def compose_wait(name: str, folder: Path) -> float:
    start = time.perf_counter()
    proc = compose(name, folder, "up", "--detach", "--wait", "--wait-timeout", "180")
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"docker compose up --wait failed: {proc.stderr}")
    return elapsed


class EngineEvents:
    """An independent subscription to the engine's events for one project."""

    def __init__(self, client: docker.DockerClient, name: str) -> None:
        self.events: list[dict[str, object]] = []
        self._stream = client.api.events(decode=True, filters={
            "type": "container", "label": f"com.docker.compose.project={name}"})
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for event in self._stream:
                self.events.append(event)
        except Exception:  # noqa: BLE001 - the stream is closed under us at the end
            pass

    def close(self) -> None:
        self._stream.close()

    def times(self, action: str) -> dict[str, float]:
        """Service -> engine time (seconds) of the first event `action` for it."""
        found: dict[str, float] = {}
        for event in self.events:
            if event.get("Action") == action:
                attrs = event["Actor"]["Attributes"]  # type: ignore[index]
                found.setdefault(attrs["com.docker.compose.service"], int(event["timeNano"]) / 1e9)  # type: ignore[arg-type]
        return found


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


# -- the three measurements ---------------------------------------------------------------

@dataclass
class Run:
    total: float  # wall time of the command
    startup: float  # from the command's start to the engine creating the first container
    lag: float  # from the last `health_status: healthy` event to the command's exit


def timed_run(client: docker.DockerClient, who: str, name: str, folder: Path) -> Run:
    events = EngineEvents(client, name)
    started = time.time()
    if who == "stackci":
        _, proc = stackci(name, folder)
        if proc.returncode != 0:
            raise SystemExit(f"stackci failed:\n{proc.stderr}")
    else:
        compose_wait(name, folder)
    ended = time.time()
    time.sleep(0.1)
    events.close()
    created = min(events.times("create").values())
    healthy = max(events.times("health_status: healthy").values())
    return Run(ended - started, created - started, ended - healthy)


def bench_ratio(client: docker.DockerClient, rounds: int, services: int, interval: str) -> None:
    print(f"\n## 1. start to ready: {services} healthchecked services (interval {interval}), "
          f"{rounds} interleaved rounds")
    runs: dict[str, list[Run]] = {"stackci": [], "compose": []}
    with project(healthy_stack(services, interval, delay=0.5)) as (name, folder):
        stackci(name, folder)  # warm-up, not counted: byte-compiles, warms the engine
        for number in range(rounds):
            # Alternate who goes first, so neither always meets a warmer engine.
            order = ("stackci", "compose") if number % 2 == 0 else ("compose", "stackci")
            for who in order:
                down(name, folder)
                runs[who].append(timed_run(client, who, name, folder))
            print(f"  round {number + 1}: stackci {runs['stackci'][-1].total:.2f} s, "
                  f"compose --wait {runs['compose'][-1].total:.2f} s")
    med = {who: {part: statistics.median(getattr(r, part) for r in rs)
                 for part in ("total", "startup", "lag")} for who, rs in runs.items()}
    ratio = med["stackci"]["total"] / med["compose"]["total"]
    print(f"  median: stackci {med['stackci']['total']:.2f} s, compose --wait "
          f"{med['compose']['total']:.2f} s, ratio {ratio:.2f} (target <= 1.0)")
    for who in ("stackci", "compose"):
        print(f"  {who}: start to first container created {med[who]['startup'] * 1000:.0f} ms "
              f"(median), last healthy event to exit {med[who]['lag'] * 1000:.0f} ms (median)")


def bench_latency(client: docker.DockerClient, rounds: int, services: int) -> None:
    print(f"\n## 2. detection latency: {services} healthchecked services x {rounds} rounds")
    samples: list[float] = []
    for _ in range(rounds):
        with project(healthy_stack(services, "200ms", delay=1.0)) as (name, folder):
            events = EngineEvents(client, name)
            _, proc = stackci(name, folder, debug=True)
            events.close()
            if proc.returncode != 0:
                raise SystemExit(f"stackci failed:\n{proc.stdout}")
            healthy_at = events.times("health_status: healthy")
            for match in _READY_MARK.finditer(proc.stdout):
                service, marked = match.group(1), float(match.group(2))
                if service in healthy_at:
                    samples.append((marked - healthy_at[service]) * 1000)
    print(f"  {len(samples)} samples: p50 {percentile(samples, 50):.1f} ms, "
          f"p95 {percentile(samples, 95):.1f} ms, max {max(samples):.1f} ms "
          "(target p95 <= 100 ms)")


def bench_crash(client: docker.DockerClient, rounds: int) -> None:
    print(f"\n## 3. time to report a crash: {rounds} rounds")
    samples: list[float] = []
    compose_yaml = healthy_stack(3, "200ms", delay=60) + CRASHING_SERVICE.format(image=IMAGE)
    for _ in range(rounds):
        with project(compose_yaml) as (name, folder):
            events = EngineEvents(client, name)
            _, proc = stackci(name, folder)
            exited = time.time()
            events.close()
            died = events.times("die").get("crash")
            if proc.returncode != 1 or died is None or "crash: exited with code 1" not in \
                    proc.stderr:
                raise SystemExit(f"unexpected result:\n{proc.stderr}")
            samples.append((exited - died) * 1000)
    print(f"  die event to failure exit: p50 {percentile(samples, 50):.0f} ms, "
          f"max {max(samples):.0f} ms (target < 1000 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--services", type=int, default=10)
    parser.add_argument("--interval", default="1s", help="healthcheck interval (ratio bench)")
    parser.add_argument("--latency-services", type=int, default=24)
    parser.add_argument("--latency-rounds", type=int, default=2)
    parser.add_argument("--crash-rounds", type=int, default=5)
    args = parser.parse_args()
    client = docker.from_env()
    version = client.version()
    print(f"# compose-up-and-wait benchmark: engine {version['Version']}, "
          f"{subprocess.run([compose_binary(), 'version', '--short'], capture_output=True, text=True, check=False).stdout.strip()}, "  # noqa: E501
          f"{os.cpu_count()} CPUs")
    print(json.dumps(vars(args)))
    bench_ratio(client, args.rounds, args.services, args.interval)
    bench_latency(client, args.latency_rounds, args.latency_services)
    bench_crash(client, args.crash_rounds)


if __name__ == "__main__":
    main()
