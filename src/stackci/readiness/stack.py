"""The compose project as Compose resolves it, reduced to what waiting needs: which
services start, how many containers each has, whether it has a healthcheck, its
restart policy and its `x-stackci-wait` field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from stackci.core.engine.compose import ComposeError, ComposeProject
from stackci.core.text.yamltext import load_yaml
from stackci.readiness.spec import ServiceWait, parse_service_wait

EXTENSION = "x-stackci-wait"
_NO_SUCH_SERVICE = re.compile(r"no such service: (\S+)")


@dataclass(frozen=True)
class Dependency:
    """One `depends_on` entry, as `docker compose config` spells it out."""

    service: str
    condition: str = "service_started"  # service_healthy, service_completed_successfully
    required: bool = True
    restart: bool = False


@dataclass(frozen=True)
class ServicePlan:
    """One service to wait for."""

    name: str
    wait: ServiceWait  # from the compose file's x-stackci-wait; the input merges in later
    replicas: int
    # True/False when the compose file says; None when only the image can tell.
    has_healthcheck: bool | None
    restart_policy: str  # no, always, unless-stopped, on-failure
    depends_on: tuple[str, ...] = ()
    dependencies: tuple[Dependency, ...] = ()

    def restarts_after(self, exit_code: int) -> bool:
        """Whether the engine will start the container again after it exits so."""
        return self.restart_policy in ("always", "unless-stopped") or (
            self.restart_policy == "on-failure" and exit_code != 0)


@dataclass(frozen=True)
class StackModel:
    name: str  # the project name Compose resolved
    services: dict[str, ServicePlan]  # the services this run starts, replicas > 0

    def has_start_conditions(self) -> bool:
        """Whether any service waits for another to be healthy or completed (only then
        does starting each service when its dependencies are ready beat `up`)."""
        return any(d.condition != "service_started" and d.service in self.services
                   for plan in self.services.values() for d in plan.dependencies)

    def must_complete(self) -> frozenset[str]:
        """Services that another names with `service_completed_successfully`: a one-shot
        that has to exit 0, not merely run."""
        return frozenset(d.service for plan in self.services.values()
                         for d in plan.dependencies
                         if d.condition == "service_completed_successfully")


class UnknownServices(Exception):  # noqa: N818 - reads as what it is
    def __init__(self, unknown: list[str], known: list[str]) -> None:
        super().__init__(", ".join(unknown))
        self.unknown = unknown
        self.known = known


class BadExtension(Exception):  # noqa: N818
    """A service's x-stackci-wait field is malformed."""


def load_stack(project: ComposeProject, services: Iterable[str] = ()) -> StackModel:
    """Resolve the project (with the given profiles) as `docker compose config` does.
    With `services`, only those and what they depend on. YAML, not JSON: Compose's
    JSON output drops service-level `x-` fields."""
    wanted = list(services)
    try:
        out = project.run("config", *wanted).stdout
    except ComposeError as exc:
        missing = _NO_SUCH_SERVICE.findall(exc.stderr)
        if wanted and missing:
            raise UnknownServices(sorted(set(missing)), all_services(project)) from exc
        raise
    data: dict[str, Any] = load_yaml(out) or {}
    plans = {}
    for name, spec in (data.get("services") or {}).items():
        plan = service_plan(str(name), spec or {})
        if plan.replicas > 0:
            plans[plan.name] = plan
    return StackModel(str(data.get("name") or project.name or ""), plans)


def all_services(project: ComposeProject) -> list[str]:
    """Every service of the project, whatever its profiles."""
    every = replace(project, profiles=("*",))
    return sorted(line.strip() for line in every.run("config", "--services").stdout.splitlines()
                  if line.strip())


def service_plan(name: str, spec: Mapping[str, Any]) -> ServicePlan:
    try:
        wait = parse_service_wait(spec.get(EXTENSION), f"{name}.{EXTENSION}")
    except ValueError as exc:
        raise BadExtension(str(exc)) from exc
    return ServicePlan(
        name=name,
        wait=wait,
        replicas=_replicas(spec),
        has_healthcheck=_has_healthcheck(spec.get("healthcheck")),
        restart_policy=_restart_policy(spec),
        depends_on=tuple(spec.get("depends_on") or ()),
        dependencies=_dependencies(spec.get("depends_on")),
    )


def _dependencies(depends_on: Any) -> tuple[Dependency, ...]:
    """`depends_on` as a list of names (short syntax) or a mapping (long syntax, and
    what `docker compose config` always writes)."""
    if isinstance(depends_on, list):
        return tuple(Dependency(str(name)) for name in depends_on)
    if not isinstance(depends_on, Mapping):
        return ()
    found = []
    for name, given in depends_on.items():
        entry = given if isinstance(given, Mapping) else {}
        found.append(Dependency(str(name), str(entry.get("condition") or "service_started"),
                                entry.get("required", True) is not False,
                                bool(entry.get("restart", False))))
    return tuple(found)


def _replicas(spec: Mapping[str, Any]) -> int:
    for value in (spec.get("scale"), (spec.get("deploy") or {}).get("replicas")):
        if value is not None:
            try:
                return int(value)
            except (TypeError, ValueError):
                continue
    return 1


def _has_healthcheck(healthcheck: Any) -> bool | None:
    if not healthcheck:
        return None  # the image may still define one
    if healthcheck.get("disable"):
        return False
    test = healthcheck.get("test")
    if test in (["NONE"], "NONE"):
        return False
    return True if test else None


def _restart_policy(spec: Mapping[str, Any]) -> str:
    policy = str(spec.get("restart") or "").split(":", 1)[0]
    if not policy:
        condition = ((spec.get("deploy") or {}).get("restart_policy") or {}).get("condition")
        policy = {"any": "always", "on-failure": "on-failure"}.get(str(condition), "no")
    return policy
