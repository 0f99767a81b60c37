"""Benchmarks for compose-up-and-wait (not a timed test; prints figures and ratios).

1. Start to ready on a stack of healthchecked services: StackCI against
   `docker compose up -d --wait`, same stack, interleaved rounds (the order rotates),
   fresh containers each round. StackCI runs as the in-venv CLI (`python -m stackci`)
   and, with `--launcher`, as users get it: `launcher/launch.sh` running the StackCI
   image (built once from this checkout, then used by its tag as a release would be).
   Each StackCI contender also runs as "engine-only" (`run-healthchecks: false`: it
   waits for the engine's health status alone, as compose does), which shows what
   running the healthchecks between the engine's runs buys. Target: ratio <= 1.0.
2. Detection latency: from the engine's `health_status: healthy` event (its own
   timestamp, read here from an independent event subscription) to StackCI marking the
   service ready (the timestamp in its debug line), p50/p95 over >= 20 services.
   Target: p95 <= 100 ms.
3. Time to report a crash: from the engine's `die` event to the StackCI process having
   exited with its failure report. Target: under 1 s.
4. Dependency chains (`--only chains`): the dependency-aware start against
   `docker compose up -d --wait`, interleaved, through the launcher as users run it.
   Stacks: a five-service chain (db and cache -> api -> web -> proxy, each ready 0.5-1 s
   after it starts) at `interval: 5s` and `30s`, and a migration chain (db -> a one-shot
   migrate -> api -> web, `interval: 5s`). Targets: ratio of medians <= 0.35 (5 s
   chain), <= 0.15 (30 s chain), <= 0.5 (migration chain).

Usage: python benchmarks/compose_up_and_wait.py [--rounds 8] [--services 10] [--launcher]
       [--launcher-image TAG]... [--baseline-src DIR] [--latency-services 24]
       [--latency-rounds 2] [--crash-rounds 5] [--chain-rounds 12] [--slow-chain-rounds 12]
       [--only ratio|latency|crash|chains]
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

from stackci.core.engine.compose import compose_binary
from stackci.core.runner.inputs import parse_duration

REPO = Path(__file__).resolve().parents[1]
LAUNCHER = REPO / "launcher" / "launch.sh"
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
CHAIN_SERVICE = """
  {name}:
    image: {image}
    command: ["sh", "-c", "sleep {delay}; touch /tmp/ready; exec sleep 600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: {interval}
      timeout: 10s
      retries: 100
{depends}"""
MIGRATE_SERVICE = """
  migrate:
    image: {image}
    command: ["sh", "-c", "sleep 1; echo migrated"]
    depends_on:
      db:
        condition: service_healthy
"""


def _depends(on: dict[str, str]) -> str:
    if not on:
        return ""
    return "    depends_on:\n" + "".join(f"      {name}:\n        condition: {cond}\n"
                                       for name, cond in on.items())


def chain_stack(interval: str) -> str:
    healthy = "service_healthy"
    specs = [("db", 0.5, {}), ("cache", 0.75, {}), ("api", 1.0, {"db": healthy, "cache": healthy}),
             ("web", 0.5, {"api": healthy}), ("proxy", 0.75, {"web": healthy, "api": healthy})]
    return "services:" + "".join(CHAIN_SERVICE.format(
        name=name, image=IMAGE, delay=delay, interval=interval, depends=_depends(on))
        for name, delay, on in specs)


def migration_stack(interval: str) -> str:
    healthy = "service_healthy"
    body = CHAIN_SERVICE.format(name="db", image=IMAGE, delay=1, interval=interval, depends="")
    body += MIGRATE_SERVICE.format(image=IMAGE)
    body += CHAIN_SERVICE.format(name="api", image=IMAGE, delay=1, interval=interval,
                                 depends=_depends({"migrate": "service_completed_successfully"}))
    body += CHAIN_SERVICE.format(name="web", image=IMAGE, delay=1, interval=interval,
                                 depends=_depends({"api": healthy}))
    return "services:" + body


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


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_", "STACKCI_"))}
    # As installed (in the image, by pip), StackCI's modules are byte-compiled.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def stackci(name: str, folder: Path, *extra: str, debug: bool = False, image: str = "",
            src: str = "") -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run the action on the project: the in-venv CLI (with `src`, StackCI's sources
    from that folder instead), or with `image` through the launcher and that image, as
    a workflow step would."""
    env = _clean_env()
    if src:
        env["PYTHONPATH"] = src
    if debug:  # Actions mode, so debug lines come out as ::debug:: on stdout
        env.update({"GITHUB_ACTIONS": "true", "RUNNER_DEBUG": "1"})
    args = ["compose-up-and-wait", "--working-directory", str(folder), "--project-name", name,
            "--timeout", "3m", *extra]
    if image:
        env["STACKCI_IMAGE"] = image
        cmd = ["bash", str(LAUNCHER), *args]
    else:
        cmd = [sys.executable, "-m", "stackci", *args]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=folder, check=False)
    return time.perf_counter() - start, proc


def launcher_image() -> str:
    """The StackCI image of this checkout (built if need be), by its content tag."""
    env = {**_clean_env(), "STACKCI_IMAGE": "build"}
    # An offline machine seeds a local stand-in for the pinned base (scripts/setup-machine.sh).
    env.setdefault("STACKCI_PYTHON_IMAGE", os.environ.get("STACKCI_PYTHON_IMAGE",
                                                          "python:3.12-slim"))
    proc = subprocess.run(["bash", str(LAUNCHER), "--image"], capture_output=True, text=True,
                          env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"could not build the StackCI image:\n{proc.stderr}")
    return proc.stdout.strip().splitlines()[-1]


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

@dataclass(frozen=True)
class Contender:
    name: str
    image: str = ""  # StackCI through the launcher and this image
    src: str = ""  # the in-venv StackCI CLI, with its sources from here
    extra: tuple[str, ...] = ()  # more inputs for StackCI


COMPOSE = Contender("compose")


@dataclass
class Run:
    total: float  # wall time of the command
    startup: float  # from the command's start to the engine creating the first container
    span: float  # from then to the last `health_status: healthy` event (the engine's work)
    lag: float  # from the last `health_status: healthy` event to the command's exit


def run_once(who: Contender, name: str, folder: Path) -> None:
    if who == COMPOSE:
        compose_wait(name, folder)
        return
    _, proc = stackci(name, folder, *who.extra, image=who.image, src=who.src)
    if proc.returncode != 0:
        raise SystemExit(f"{who.name} failed:\n{proc.stderr}")


def timed_run(client: docker.DockerClient, who: Contender, name: str, folder: Path,
              services: int, interval: float) -> Run:
    events = EngineEvents(client, name)
    started = time.time()
    run_once(who, name, folder)
    ended = time.time()
    # StackCI may finish before the engine's own healthy events (it runs the healthchecks
    # itself too): wait for them, to split the run the same way for every contender (the
    # exit then comes before the last healthy event: a negative "to exit").
    give_up = time.time() + interval + 2
    time.sleep(0.1)
    while len(events.times("health_status: healthy")) < services and time.time() < give_up:
        time.sleep(0.05)
    events.close()
    created = min(events.times("create").values())
    healthy = max(events.times("health_status: healthy").values())
    return Run(ended - started, created - started, healthy - created, ended - healthy)


def spread(values: list[float]) -> str:
    return (f"median {statistics.median(values):.3f}, quartiles {percentile(values, 25):.3f}"
            f"-{percentile(values, 75):.3f}, range {min(values):.3f}-{max(values):.3f}")


def bench_ratio(client: docker.DockerClient, rounds: int, services: int, interval: str,
                who_all: list[Contender]) -> None:
    print(f"\n## 1. start to ready: {services} healthchecked services (interval {interval}), "
          f"{rounds} interleaved rounds of {', '.join(w.name for w in who_all)}")
    runs: dict[Contender, list[Run]] = {who: [] for who in who_all}
    with project(healthy_stack(services, interval, delay=0.5)) as (name, folder):
        # Warm-ups, not counted: byte-compiles, warms the engine and the page cache.
        for who in who_all:
            down(name, folder)
            run_once(who, name, folder)
        for number in range(rounds):
            # Rotate who goes first, so nobody always meets a warmer (or busier) engine.
            shift = number % len(who_all)
            for who in who_all[shift:] + who_all[:shift]:
                down(name, folder)
                runs[who].append(timed_run(client, who, name, folder, services,
                                           parse_duration(interval)))
            print(f"  round {number + 1}: " + ", ".join(
                f"{who.name} {runs[who][-1].total:.2f} s" for who in who_all), flush=True)
    med = {who: {part: statistics.median(getattr(r, part) for r in rs)
                 for part in ("total", "startup", "span", "lag")} for who, rs in runs.items()}
    for who in who_all:
        if who == COMPOSE:
            continue
        per_round = [a.total / b.total for a, b in zip(runs[who], runs[COMPOSE], strict=True)]
        print(f"  {who.name}: median {med[who]['total']:.2f} s vs compose --wait "
              f"{med[COMPOSE]['total']:.2f} s: ratio of medians "
              f"{med[who]['total'] / med[COMPOSE]['total']:.3f}; per-round ratio "
              f"{spread(per_round)} (target <= 1.0)")
    # What a tool adds around the engine's own work (which is the same for all, and
    # carries most of the noise on a shared machine): its start, and its exit.
    for who in who_all:
        overhead = statistics.median(r.startup + r.lag for r in runs[who])
        print(f"  {who.name} (medians): start to first container created "
              f"{med[who]['startup'] * 1000:.0f} ms, then to the last healthy event "
              f"{med[who]['span'] * 1000:.0f} ms, then to exit {med[who]['lag'] * 1000:.0f} ms; "
              f"start + exit {overhead * 1000:.0f} ms")


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


def chain_run(client: docker.DockerClient, who: Contender, name: str, folder: Path
              ) -> tuple[float, float]:
    """(wall time, time from the last readiness event to the exit). The last readiness
    event: compose's last `health_status: healthy`; StackCI's last ready mark."""
    events = EngineEvents(client, name)
    started = time.time()
    if who == COMPOSE:
        compose_wait(name, folder)
        ended = time.time()
        time.sleep(0.1)
        events.close()
        last = max(events.times("health_status: healthy").values())
    else:
        _, proc = stackci(name, folder, *who.extra, image=who.image, src=who.src, debug=True)
        ended = time.time()
        events.close()
        if proc.returncode != 0:
            raise SystemExit(f"{who.name} failed:\n{proc.stdout[-3000:]}")
        marks = [float(m.group(2)) for m in _READY_MARK.finditer(proc.stdout)]
        last = max(marks) if marks else ended
    return ended - started, ended - last


def bench_chains(client: docker.DockerClient, rounds: int, slow_rounds: int,
                 who_all: list[Contender]) -> None:
    stacks = [("five-service chain, interval 5s", chain_stack("5s"), rounds, 0.35),
              ("migration chain, interval 5s", migration_stack("5s"), rounds, 0.5),
              ("five-service chain, interval 30s", chain_stack("30s"), slow_rounds, 0.15)]
    for title, compose_yaml, count, target in stacks:
        if count <= 0:
            continue
        print(f"\n## 4. {title}: {count} interleaved rounds of "
              + ", ".join(w.name for w in who_all), flush=True)
        totals: dict[Contender, list[float]] = {who: [] for who in who_all}
        lags: dict[Contender, list[float]] = {who: [] for who in who_all}
        with project(compose_yaml) as (name, folder):
            for number in range(count):
                shift = number % len(who_all)
                for who in who_all[shift:] + who_all[:shift]:
                    down(name, folder)
                    total, lag = chain_run(client, who, name, folder)
                    totals[who].append(total)
                    lags[who].append(lag)
                print(f"  round {number + 1}: " + ", ".join(
                    f"{who.name} {totals[who][-1]:.2f} s" for who in who_all), flush=True)
        base = statistics.median(totals[COMPOSE])
        for who in who_all:
            print(f"  {who.name}: total {spread(totals[who])}; last readiness event to exit "
                  f"median {statistics.median(lags[who]) * 1000:.0f} ms")
            if who != COMPOSE:
                print(f"  {who.name} / compose: ratio of medians "
                      f"{statistics.median(totals[who]) / base:.3f} (target <= {target})")


def contenders(args: argparse.Namespace) -> list[Contender]:
    engine_only = ("--run-healthchecks", "false")
    found = [Contender("stackci"), COMPOSE, Contender("stackci engine-only", extra=engine_only)]
    if args.launcher:
        image = launcher_image()
        found += [Contender("launcher", image=image),
                  Contender("launcher engine-only", image=image, extra=engine_only)]
    found += [Contender(f"launcher {tag}", image=tag) for tag in args.launcher_image]
    if args.baseline_src:
        found.append(Contender("baseline", src=args.baseline_src))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--services", type=int, default=10)
    parser.add_argument("--interval", default="1s", help="healthcheck interval (ratio bench)")
    parser.add_argument("--launcher", action="store_true",
                        help="also run StackCI through the launcher and this checkout's image")
    parser.add_argument("--launcher-image", action="append", default=[], metavar="TAG",
                        help="also run StackCI through the launcher and this image (repeatable)")
    parser.add_argument("--baseline-src", default="", metavar="DIR",
                        help="also run the in-venv CLI from another checkout's src/ (an "
                        "earlier version, say), as `baseline`")
    parser.add_argument("--latency-services", type=int, default=24)
    parser.add_argument("--latency-rounds", type=int, default=2)
    parser.add_argument("--crash-rounds", type=int, default=5)
    parser.add_argument("--chain-rounds", type=int, default=12)
    parser.add_argument("--slow-chain-rounds", type=int, default=12,
                        help="rounds of the 30 s chain (about 2 min each for compose)")
    parser.add_argument("--only", choices=("ratio", "latency", "crash", "chains"))
    args = parser.parse_args()
    client = docker.from_env()
    version = client.version()
    who_all = contenders(args)
    if args.only == "chains":  # as users run it: through the launcher, against compose
        who_all = [w for w in who_all if w.image and "engine-only" not in w.name] or \
            [w for w in who_all if w.name == "stackci"]
        who_all = [COMPOSE, *who_all]
    print(f"# compose-up-and-wait benchmark: engine {version['Version']}, "
          f"{subprocess.run([compose_binary(), 'version', '--short'], capture_output=True, text=True, check=False).stdout.strip()}, "  # noqa: E501
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(json.dumps({**vars(args), "images": [w.image for w in who_all if w.image]}))
    if args.only in (None, "ratio"):
        bench_ratio(client, args.rounds, args.services, args.interval, who_all)
    if args.only in (None, "latency"):
        bench_latency(client, args.latency_rounds, args.latency_services)
    if args.only in (None, "crash"):
        bench_crash(client, args.crash_rounds)
    if args.only == "chains":
        bench_chains(client, args.chain_rounds, args.slow_chain_rounds, who_all)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
