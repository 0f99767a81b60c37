"""collect-logs against `docker compose logs`, on the same stack in the same run.

Ten busybox services each write SIZE of log lines and exit; then, in alternating rounds,
`docker compose logs --no-color > all.txt` and `python -m stackci collect-logs` read the
logs back. Prints each wall time, the ratio StackCI / compose (target <= 1.0) and the
collector's peak memory (max RSS of the `stackci` process, target < 100 MB and flat as
the logs grow). `compose logs --timestamps` and StackCI with `timestamps: false` are
measured too, for like-for-like ratios. Needs the engine and the busybox stand-in; run
from the repository:

    .venv/bin/python benchmarks/collect_logs.py --per-service-mb 10 100 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from stackci.core.engine.compose import compose_binary  # noqa: E402

LINE = ("benchmark line: lorem ipsum dolor sit amet, consectetur adipiscing elit, "
        "sed do eiusmod tempor")  # 95 characters + newline
SERVICES = 10


def compose_yaml(per_service_bytes: int) -> str:
    lines = ["services:"]
    for i in range(1, SERVICES + 1):
        # Half of the lines on stderr, so the interleaving path is exercised too.
        cmd = (f"yes '{LINE} svc{i}' | head -c {per_service_bytes // 2}; "
               f"yes '{LINE} svc{i} err' | head -c {per_service_bytes // 2} >&2")
        lines += [f"  svc{i}:", "    image: busybox:1.36",
                  f"    command: {json.dumps(['sh', '-c', cmd])}"]
    return "\n".join(lines) + "\n"


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def measured(cmd: list[str], stdout_path: Path | None = None,
             env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (kB) of `cmd`, run in a fresh helper process so that
    RUSAGE_CHILDREN sees that one command only."""
    helper = (
        "import resource, subprocess, sys, time\n"
        "out = open(sys.argv[1], 'wb') if sys.argv[1] != '-' else subprocess.DEVNULL\n"
        "t = time.perf_counter()\n"
        "err = open(sys.argv[1] + '.err' if sys.argv[1] != '-' else '/dev/null', 'wb')\n"
        "rc = subprocess.call(sys.argv[2:], stdout=out, stderr=err)\n"
        "wall = time.perf_counter() - t\n"
        "print(rc, wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    proc = run([sys.executable, "-c", helper, str(stdout_path or "-"), *cmd], env=env)
    rc, wall, rss = proc.stdout.split()
    if rc != "0":
        err = Path(f"{stdout_path}.err") if stdout_path else None
        why = err.read_text()[-2000:] if err and err.exists() else ""
        raise SystemExit(f"{cmd[:3]} exited {rc}: {why}")
    return float(wall), int(rss)


def bench(per_service_mb: int, rounds: int, scratch: Path) -> dict[str, object]:
    project = "stackci-bench-" + uuid.uuid4().hex[:8]
    stack_dir = scratch / project
    stack_dir.mkdir()
    (stack_dir / "compose.yaml").write_text(compose_yaml(per_service_mb * 1_000_000))
    compose = [compose_binary(), "--project-name", project]
    try:
        start = time.perf_counter()
        run([*compose, "up", "--detach", "--quiet-pull"], cwd=stack_dir)
        ids = run([*compose, "ps", "--all", "--quiet"], cwd=stack_dir).stdout.split()
        run(["docker", "wait", *ids])
        made = time.perf_counter() - start
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        env = {k: v for k, v in env.items() if not k.startswith(("GITHUB_", "INPUT_"))}
        results: dict[str, list[float]] = {"compose": [], "compose_ts": [], "stackci": [],
                                           "stackci_nots": []}
        rss: list[int] = []
        for _ in range(rounds):
            for key, extra in (("compose", []), ("compose_ts", ["--timestamps"])):
                wall, _rss = measured([*compose, "logs", "--no-color", *extra],
                                      scratch / "all.txt")
                results[key].append(wall)
                if key == "compose":
                    size_compose = (scratch / "all.txt").stat().st_size
                (scratch / "all.txt").unlink()
            for key, stamps in (("stackci", "true"), ("stackci_nots", "false")):
                out = scratch / "out"
                wall, peak = measured([sys.executable, "-m", "stackci", "collect-logs",
                                       "--project-name", project, "--path", str(out),
                                       "--print", "none", "--timestamps", stamps], env=env)
                results[key].append(wall)
                rss.append(peak)
                size_ours = sum(p.stat().st_size for p in (out / "logs").iterdir())
                shutil.rmtree(out)
        median = {k: statistics.median(v) for k, v in results.items()}
        return {
            "total_mb": per_service_mb * SERVICES, "write_s": round(made, 1),
            "compose_s": [round(x, 2) for x in results["compose"]],
            "compose_timestamps_s": [round(x, 2) for x in results["compose_ts"]],
            "stackci_s": [round(x, 2) for x in results["stackci"]],
            "stackci_no_timestamps_s": [round(x, 2) for x in results["stackci_nots"]],
            "ratio": round(median["stackci"] / median["compose"], 2),
            "ratio_no_timestamps": round(median["stackci_nots"] / median["compose"], 2),
            "ratio_both_timestamps": round(median["stackci"] / median["compose_ts"], 2),
            "stackci_peak_rss_mb": round(max(rss) / 1024, 1),
            "compose_output_mb": round(size_compose / 1e6, 1),
            "stackci_logs_mb": round(size_ours / 1e6, 1),
        }
    finally:
        down = subprocess.run([*compose, "down", "--volumes", "--remove-orphans", "--timeout",
                               "0"], cwd=stack_dir, capture_output=True, text=True, check=False)
        if down.returncode != 0:
            print(f"warning: could not remove {project}: {down.stderr.strip()[-500:]}",
                  file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-service-mb", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    free = shutil.disk_usage("/var/lib/docker" if Path("/var/lib/docker").exists() else "/")
    need = max(args.per_service_mb) * SERVICES * 1_000_000 * 4  # json-file + two copies
    if free.free < need:
        raise SystemExit(f"not enough disk: {free.free / 1e9:.1f} GB free, need {need / 1e9:.1f}")
    print(f"cpus: {os.cpu_count()}, rss limit: {resource.getrlimit(resource.RLIMIT_AS)}")
    with tempfile.TemporaryDirectory(prefix="stackci-bench-") as scratch:
        for mb in args.per_service_mb:
            print(json.dumps(bench(mb, args.rounds, Path(scratch))), flush=True)


if __name__ == "__main__":
    main()
