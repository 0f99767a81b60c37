"""Smoke checks: run once, after every service is ready, and must pass at once.

    - name: health
      http: http://localhost:8000/api/v1/health
      status: 200
      body: '"ok"'
    - exec: python -m app.selfcheck
      service: backend

Readiness answers "may the tests start?"; a smoke check answers "does the stack do its
job?" with one request or one command, no retries: a curl loop after the wait is what
this replaces. An http check names a service as its host (`http://api:8000/`) or a
published port on localhost; an exec check runs in the service's first running
container. Each result says its status and an excerpt of what the service answered."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stackci.core.text import markdown as md
from stackci.readiness.spec import Check, WaitSpecError, parse_active_check, parse_duration_option

if TYPE_CHECKING:
    import docker

KINDS = ("http", "exec")
OPTIONS = ("name", "service", "status", "body", "timeout")
DEFAULT_TIMEOUT = 30.0
EXCERPT_CHARS = 160


@dataclass(frozen=True)
class SmokeCheck:
    name: str
    check: Check
    service: str | None  # exec: the service it runs in
    timeout: float

    def describe(self) -> str:
        where = f" in {self.service}" if self.service else ""
        return f"{self.check.describe()}{where}"


@dataclass(frozen=True)
class SmokeResult:
    smoke: SmokeCheck
    ok: bool
    detail: str  # "answered 200", "exited 1: ...", "backend has no running container"
    excerpt: str  # what the service said, on one line and cut short
    seconds: float

    def line(self) -> str:
        said = f": {self.excerpt}" if self.excerpt else ""
        mark = "passed" if self.ok else "FAILED"
        return f"smoke {self.smoke.name} {mark}: {self.smoke.describe()} {self.detail}{said}"


def parse_smoke(value: Any) -> tuple[SmokeCheck, ...]:
    """The `smoke` input's YAML: a list of checks, each one http or exec check."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise WaitSpecError("expected a YAML list of checks (`- http: ...` or `- exec: ...`)")
    checks: list[SmokeCheck] = []
    for number, item in enumerate(value, 1):
        checks.append(_parse_one(item, f"item {number}"))
    names = [c.name for c in checks]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise WaitSpecError(f"each check needs a name of its own; used twice: {', '.join(twice)}")
    return tuple(checks)


def _parse_one(item: Any, where: str) -> SmokeCheck:
    if not isinstance(item, Mapping):
        raise WaitSpecError(f"{where}: expected a mapping with http or exec")
    unknown = sorted(str(k) for k in item if k not in KINDS + OPTIONS)
    if unknown:
        raise WaitSpecError(f"{where}: unknown key {unknown[0]!r}; a smoke check has one of "
                            f"{', '.join(KINDS)} and the options {', '.join(OPTIONS)}")
    kinds = [k for k in KINDS if k in item]
    if len(kinds) != 1:
        raise WaitSpecError(f"{where}: expected exactly one of http or exec")
    kind = kinds[0]
    if kind == "exec" and not isinstance(item.get("service"), str):
        raise WaitSpecError(f"{where}: an exec check needs `service`, the service to run in")
    if kind == "http" and "service" in item:
        raise WaitSpecError(f"{where}: `service` belongs to an exec check (an http check "
                            "names the service as its host)")
    if kind == "exec" and ("status" in item or "body" in item):
        raise WaitSpecError(f"{where}: status and body belong to an http check")
    check = parse_active_check(kind, item, where)
    timeout = parse_duration_option(item.get("timeout"), f"{where}.timeout")
    name = item.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise WaitSpecError(f"{where}.name: expected text")
    return SmokeCheck(name.strip() if isinstance(name, str) else check.target, check,
                      item.get("service"), timeout or DEFAULT_TIMEOUT)


def unknown_services(checks: Sequence[SmokeCheck], services: Sequence[str]) -> list[str]:
    return sorted({c.service for c in checks if c.service and c.service not in services})


def run_smoke(checks: Sequence[SmokeCheck], client: docker.DockerClient, project: str,
              services: Sequence[str]) -> list[SmokeResult]:
    """Each check once, in order; every one runs, so one report shows them all."""
    # Only here: parsing the input (before the start) needs neither.
    from stackci.core.engine.containers import running_containers  # noqa: PLC0415
    from stackci.readiness.probes import ExecProbe, HttpProbe  # noqa: PLC0415 - docker-py

    def address(host: str) -> str | None:
        if host not in services:
            return host
        for state in running_containers(client, project, host):
            found = state.address(project)
            if found:
                return found
        return None

    results = []
    for smoke in checks:
        started = time.monotonic()
        if smoke.check.kind == "http":
            probe: HttpProbe | ExecProbe = HttpProbe(smoke.check, address,
                                                     timeout=(5.0, smoke.timeout))
        else:
            assert smoke.service is not None
            running = running_containers(client, project, smoke.service)
            if not running:
                results.append(SmokeResult(smoke, False,
                                           f"could not run: {smoke.service} has no running "
                                           "container", "", 0.0))
                continue
            probe = ExecProbe(smoke.check, client, running[0].id, time.time() + smoke.timeout)
        try:
            attempt = probe.attempt()
        finally:
            probe.close()
        results.append(SmokeResult(smoke, attempt.ok, attempt.detail,
                                   excerpt(attempt.output), time.monotonic() - started))
    return results


def excerpt(text: str) -> str:
    """What a service said, on one line and cut short: for a log line and a table."""
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def smoke_table(results: Sequence[SmokeResult]) -> str:
    rows = [(md.cell(r.smoke.name), md.cell(r.smoke.describe()),
             md.cell(f"{'✅' if r.ok else '❌'} {r.detail}"),
             md.cell_code(r.excerpt) if r.excerpt else "–") for r in results]
    return md.table(["smoke check", "check", "result", "answer"], rows)
