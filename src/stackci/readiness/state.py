"""What the wait knows of each service and container while it runs, and the result it
ends with. Plain data and the rules of what passes; no engine, no threads, no clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from stackci.readiness.spec import AUTO, Check
from stackci.readiness.stack import ServicePlan

# The index under which a container's own healthcheck, run by StackCI, counts as passed
# (the wait's checks count from 0).
HEALTHCHECK = -1


@dataclass(frozen=True)
class Attempt:
    """One attempt of a probe."""

    ok: bool
    detail: str  # what happened, for people: "answered 503", "refused the connection"
    final: bool = False  # no later attempt can succeed (the log ended)
    # What the service said (an HTTP body, a command's output), cut short: shown by
    # the smoke checks, not by the wait.
    output: str = ""


@dataclass
class ContainerWatch:
    id: str
    name: str
    number: int
    has_health: bool | None  # None: not known yet (inspect tells)
    starts: int = 0
    started_at: float | None = None
    died_at: float | None = None  # when its last run ended
    verdict_due: float | None = None  # an exit whose verdict waits for an OOM event
    running: bool = False
    health: str | None = None
    exit_code: int | None = None
    oom: bool = False
    log_ended: bool = False
    last_event: float = 0.0
    passed: set[int] = field(default_factory=set)  # per-container checks passed
    probes: dict[int, int] = field(default_factory=dict)  # check index -> probe token

    def passes(self, check: Check, index: int) -> bool:
        kind = check.kind
        if kind == AUTO:
            if self.has_health:
                return self.healthy
            if self.has_health is None:
                return False
            return self.running or self.exit_code == 0
        if kind == "healthy":
            return self.healthy
        if kind == "running":
            return self.running
        if kind == "completed":
            return not self.running and self.exit_code == 0
        return index in self.passed

    @property
    def healthy(self) -> bool:
        """The engine says so, or its healthcheck passed when StackCI ran it in this run
        of the container (the engine would say so at its next run of it)."""
        return self.health == "healthy" or (
            HEALTHCHECK in self.passed and self.running and self.health != "unhealthy")


@dataclass
class Progress:
    """The latest attempt of an active check, and since when it has said the same."""

    detail: str
    since: float
    attempts: int = 1


@dataclass
class ServiceWatch:
    plan: ServicePlan
    checks: tuple[Check, ...]
    own_timeout: float | None  # counted from its first container's start
    deadline: float
    interval: float | None
    containers: dict[str, ContainerWatch] = field(default_factory=dict)
    passed: set[int] = field(default_factory=set)  # service-level checks passed
    progress: dict[tuple[str, int], Progress] = field(default_factory=dict)
    probes: dict[int, int] = field(default_factory=dict)  # service-level: index -> token
    ready_at: float | None = None
    ready_detail: str = ""
    trigger_time: float | None = None  # when the engine event that made it ready was emitted
    failure: str | None = None
    problem: str | None = None  # a setback it may recover from (fail-fast off)
    pending: str = ""  # why it was not ready yet when the wait stopped for another reason
    blamed_on_up: bool = False  # not started because `docker compose up` failed
    first_start: float | None = None  # when its first container first started

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def settled(self) -> bool:
        return self.ready_at is not None or self.failure is not None

    def ordered_containers(self) -> list[ContainerWatch]:
        return sorted(self.containers.values(), key=lambda c: (c.number, c.name))

    def is_ready(self) -> bool:
        containers = list(self.containers.values())
        if len(containers) < self.plan.replicas:
            return False
        for index, check in enumerate(self.checks):
            if check.per_container:
                if not all(c.passes(check, index) for c in containers):
                    return False
            elif index not in self.passed:
                return False
        return True


@dataclass
class WaitResult:
    services: dict[str, ServiceWatch]
    started: float
    finished: float
    up_code: int | None  # None: `up` was still running and was stopped
    up_output: str
    up_command: str = "up"  # what `up` ran: `up`, or `create` in the staged start

    @property
    def ok(self) -> bool:
        return self.up_code == 0 and all(s.ready_at is not None
                                         for s in self.services.values())
