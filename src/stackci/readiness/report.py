"""Turn a finished wait into what people and later steps read: the `services` output,
the job summary table, and for each service that is not ready its state, health-check
output and last log lines."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
import requests

from stackci.core.engine.containers import ContainerState, inspect
from stackci.core.runner.errors import ActionFailed
from stackci.core.runner.workflow import Workflow
from stackci.core.text import markdown as md
from stackci.readiness.spec import AUTO
from stackci.readiness.state import ServiceWatch, WaitResult

PARALLEL = 16  # engine calls in flight at once when building a report


@dataclass(frozen=True)
class ServiceReport:
    name: str
    check: str
    ready: bool
    seconds_to_ready: float | None
    reason: str  # why it is not ready ("" when it is)
    failed: bool  # it cannot become ready (else, if not ready, the wait stopped first)
    containers: list[ContainerState]
    blamed_on_up: bool = False  # not started because `docker compose up` failed

    @property
    def main_container(self) -> ContainerState | None:
        """The container that speaks for the service: a failing one if any."""
        for container in self.containers:
            if (not container.running and container.exit_code not in (None, 0)) or \
                    container.health == "unhealthy" or container.oom_killed:
                return container
        return self.containers[0] if self.containers else None

    def output(self) -> dict[str, Any]:
        main = self.main_container
        ports: dict[str, str] = {}
        for container in reversed(self.containers):
            ports.update(container.reachable_ports())
        return {
            "containers": [c.to_json() for c in self.containers],
            "state": main.status if main else "missing",
            "health": main.health if main else None,
            "exit-code": main.exit_code if main and not main.running else None,
            "restarts": sum(c.restarts for c in self.containers),
            "ready": self.ready,
            "seconds-to-ready": self.seconds_to_ready,
            "ports": ports,
            "check": self.check,
            "reason": self.reason or None,
        }


def build_reports(result: WaitResult, client: docker.DockerClient) -> list[ServiceReport]:
    inspected = _inspect_all(client, [c.id for s in result.services.values()
                                      for c in s.ordered_containers()])
    reports = []
    for service in result.services.values():
        ready = service.ready_at is not None and service.failure is None
        reports.append(ServiceReport(
            name=service.name,
            check=describe_checks(service),
            ready=ready,
            seconds_to_ready=(round(service.ready_at - result.started, 2)
                              if service.ready_at is not None else None),
            reason="" if ready else (service.failure or "not ready yet when the wait stopped: "
                                     + (service.pending or "pending")),
            failed=service.failure is not None,
            containers=[inspected[c.id] for c in service.ordered_containers()
                        if c.id in inspected],
            blamed_on_up=service.blamed_on_up,
        ))
    return reports


def describe_checks(service: ServiceWatch) -> str:
    parts = []
    for check in service.checks:
        if check.kind == AUTO:
            has_health = any(c.has_health for c in service.containers.values()) or \
                service.plan.has_healthcheck
            parts.append("healthy" if has_health else "running or completed")
        else:
            parts.append(check.describe())
    return "; ".join(parts)


def summary_table(reports: Sequence[ServiceReport]) -> str:
    rows = []
    for report in reports:
        mark = "✅" if report.ready else "❌" if report.failed else "⏸"
        result = "ready" if report.ready else report.reason
        result = f"{mark} {result}"
        seconds = f"{report.seconds_to_ready:.1f} s" if report.seconds_to_ready is not None \
            else "–"
        rows.append((md.cell(report.name), md.cell(report.check), md.cell(result), seconds))
    return md.table(["service", "check", "result", "time to ready"], rows)


def state_lines(report: ServiceReport) -> list[str]:
    """State, exit code, restart count and last health-check output of each container."""
    if not report.containers:
        return ["no container exists for this service"]
    lines = []
    for c in report.containers:
        exit_code = "-" if c.running or c.exit_code is None else str(c.exit_code)
        health = c.health or "no healthcheck"
        oom = ", killed for running out of memory" if c.oom_killed else ""
        lines.append(f"{c.name}: state {c.status}, exit code {exit_code}, restarts "
                     f"{c.restarts}, health {health}{oom}")
        if c.health is not None and c.health_exit_code is None:
            lines.append("  no health check has run yet")
        elif c.health is not None:
            output = c.health_output or "(no output)"
            lines.append(f"  last health check (exit {c.health_exit_code}): {output}")
    return lines


def last_log_lines(client: docker.DockerClient, containers: Sequence[ContainerState],
                   count: int) -> dict[str, str]:
    """The last `count` lines of each container's log, by container id, fetched
    concurrently (a failure report should not wait on one container after another)."""
    if count <= 0 or not containers:
        return {}
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(containers))) as pool:
        texts = pool.map(lambda c: _log_tail(client, c, count), containers)
        return {c.id: text for c, text in zip(containers, texts, strict=True)}


def _log_tail(client: docker.DockerClient, container: ContainerState, count: int) -> str:
    try:
        raw = client.api.logs(container.id, stdout=True, stderr=True, tail=count)
    except (docker.errors.DockerException, requests.RequestException) as exc:
        return f"(its log could not be read: {exc})"
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text.rstrip("\n")


def _inspect_all(client: docker.DockerClient, ids: list[str]) -> dict[str, ContainerState]:
    """`docker inspect` of each container, concurrently; those removed meanwhile are
    left out (there is nothing left to report on)."""
    def one(container_id: str) -> ContainerState | None:
        try:
            return inspect(client, container_id)
        except (docker.errors.DockerException, requests.RequestException):
            return None

    if not ids:
        return {}
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(ids))) as pool:
        return {i: info for i, info in zip(ids, pool.map(one, ids), strict=True) if info}


def explain_failure(wf: Workflow, result: WaitResult, reports: list[ServiceReport],
                    client: docker.DockerClient, log_lines: int) -> ActionFailed:
    """One log group and one error annotation per service that is not ready, and one for
    `docker compose up` if it failed (the services it never started point to it instead
    of repeating it). The stack is left as it is, for collect-logs and for people."""
    failing = [r for r in reports if not r.ready]
    failing.sort(key=lambda r: not r.failed)  # those that failed first
    logs = last_log_lines(client, [c for r in failing for c in r.containers], log_lines)
    for report in failing:
        with wf.group(f"{report.name}: {report.reason}"):
            wf.log(f"check: {report.check}")
            for line in state_lines(report):
                wf.log(line)
            for container in report.containers:
                text = logs.get(container.id, "")
                if text:
                    wf.log(f"last {log_lines} log lines of {container.name}:")
                    wf.log(text)
    for report in failing:
        # Not those that the wait merely stopped for, nor those up's error explains.
        if report.failed and not report.blamed_on_up:
            wf.error(f"{report.name}: {report.reason}",
                     title=f"compose-up-and-wait: {report.name} not ready")
    up_problem = _up_problem(result)
    if up_problem:
        command = f"docker compose {result.up_command}"
        with wf.group(command):
            wf.log(result.up_output.rstrip() or "(no output)")
        wf.error(up_problem, title=f"compose-up-and-wait: {command}")
    names = ", ".join(r.name for r in failing)
    message = (f"{len(failing)} of {len(reports)} services not ready: {names}" if failing
               else up_problem)
    details = summary_table(reports)
    if up_problem:
        details += "\n\n" + md.escape(up_problem)
    # The handler puts the message in the job summary; compose's words are outside text.
    return ActionFailed(message, details, annotated=True)


def _up_problem(result: WaitResult) -> str:
    """What went wrong with the Compose command that started the stack (`up`, or in the
    staged start `create`, named as such), in Compose's last words."""
    command = f"docker compose {result.up_command}"
    if result.up_code is None:
        return f"{command} had not finished when the wait ended, and was stopped"
    if result.up_code != 0:
        lines = [line.strip() for line in result.up_output.splitlines() if line.strip()]
        return f"{command} failed: {lines[-1] if lines else f'exit code {result.up_code}'}"
    return ""
