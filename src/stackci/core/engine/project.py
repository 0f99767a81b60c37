"""What the engine knows about one Compose project, found by its label alone (no compose
file needed): its containers in every state, one-off `run` containers included, their
networks and volumes, and the engine's event history for them."""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import docker
    import docker.errors
    from docker.models.containers import Container

from stackci.core.engine import retry
from stackci.core.engine.compose import (
    NUMBER_LABEL,
    ONEOFF_LABEL,
    PROJECT_LABEL,
    SERVICE_LABEL,
    ComposeError,
    ComposeProject,
)

# Container events worth keeping: the life cycle. The engine's exec_* events (one set per
# health probe) and attach/resize noise are left out.
LIFECYCLE_EVENTS = ("create", "start", "restart", "die", "oom", "kill", "stop", "pause",
                    "unpause", "health_status", "update", "rename", "destroy")


_ENGINE_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)")


def project_filter(project: str) -> dict[str, str]:
    return {"label": f"{PROJECT_LABEL}={project}"}


def project_containers(client: docker.DockerClient, project: str) -> list[Container]:
    """Every container of the project, running or not, `compose run` ones included;
    one removed while listing is simply not there."""
    found: list[Container] = retry.call_with(
        retry.DOCKER, client.containers.list, all=True, filters=project_filter(project),
        ignore_removed=True,
    )
    return sorted(found, key=lambda c: (_label(c, SERVICE_LABEL, c.name),
                                        _label(c, ONEOFF_LABEL, "False"), _number(c), c.name))


@dataclass(frozen=True)
class ContainerRecord:
    """One container's state, read from `docker inspect`."""

    id: str
    name: str
    service: str
    number: int
    one_off: bool
    image: str
    state: str
    exit_code: int | None
    health: str
    restarts: int
    oom_killed: bool
    error: str
    created: str
    started_at: str
    finished_at: str
    tty: bool
    ports: list[str] = field(default_factory=list)

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> ContainerRecord:
        config = attrs.get("Config") or {}
        labels = config.get("Labels") or {}
        state = attrs.get("State") or {}
        status = str(state.get("Status", "unknown"))
        started = parse_engine_time(str(state.get("StartedAt", ""))) is not None
        return cls(
            id=str(attrs.get("Id", "")),
            name=str(attrs.get("Name", "")).lstrip("/"),
            service=str(labels.get(SERVICE_LABEL) or str(attrs.get("Name", "")).lstrip("/")),
            number=_int(labels.get(NUMBER_LABEL), 1),
            one_off=labels.get(ONEOFF_LABEL, "False") == "True",
            image=str(config.get("Image", "")),
            state=status,
            exit_code=(_int(state.get("ExitCode"), 0)
                       if status in ("exited", "dead", "restarting") else None),
            health=str((state.get("Health") or {}).get("Status", "")),
            restarts=_int(attrs.get("RestartCount"), 0),
            oom_killed=bool(state.get("OOMKilled")),
            error=str(state.get("Error", "")),
            created=str(attrs.get("Created", "")),
            started_at=str(state.get("StartedAt", "")) if started else "",
            finished_at=(str(state.get("FinishedAt", ""))
                         if parse_engine_time(str(state.get("FinishedAt", ""))) else ""),
            tty=bool(config.get("Tty")),
            ports=_ports(attrs),
        )

    def problems(self, oom_events: int = 0, stopped: bool = False) -> list[str]:
        """Why this container counts as failed; empty when it does not. `stopped`: the
        engine recorded a stop or kill for it (`compose stop`, `down`, `docker kill`),
        so an exit by SIGKILL or SIGTERM (137, 143) was asked for, unless it was an OOM
        kill or the engine reports an error."""
        found = []
        on_purpose = (stopped and self.exit_code in (137, 143) and not self.oom_killed
                      and not oom_events and not self.error)
        if self.exit_code not in (None, 0) and not on_purpose:
            found.append(f"exited with code {self.exit_code}")
        if self.health == "unhealthy":
            found.append("unhealthy")
        if self.oom_killed or oom_events:
            found.append("killed: out of memory")
        if self.restarts:
            found.append(f"restarted {self.restarts} time{'s' if self.restarts > 1 else ''}")
        if self.error:
            found.append(f"engine error: {self.error}")
        return found


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _label(container: Container, name: str, default: str) -> str:
    return str((container.labels or {}).get(name, default))


def _number(container: Container) -> int:
    return _int((container.labels or {}).get(NUMBER_LABEL), 0)


def _ports(attrs: dict[str, Any]) -> list[str]:
    bound = ((attrs.get("NetworkSettings") or {}).get("Ports")) or {}
    out = []
    for port, bindings in sorted(bound.items()):
        for bind in bindings or []:
            out.append(f"{bind.get('HostIp', '')}:{bind.get('HostPort', '')}->{port}")
        if not bindings:
            out.append(port)
    return out


def project_networks(client: docker.DockerClient, project: str,
                     also: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Inspect data of the project's networks and of the other networks its containers
    are attached to (`also`, by name or id), the engine's default ones excepted."""
    import docker.errors as docker_errors  # noqa: PLC0415 - see core.engine.compose

    found: dict[str, dict[str, Any]] = {}
    for network in retry.call_with(retry.DOCKER, client.networks.list,
                                   filters=project_filter(project)):
        found[network.id] = _network_attrs(client, network.id)
    for name in also:
        if name in ("bridge", "host", "none"):
            continue
        try:
            attrs = _network_attrs(client, name)
        except docker_errors.NotFound:
            continue
        found.setdefault(str(attrs.get("Id")), attrs)
    return sorted(found.values(), key=lambda a: str(a.get("Name", "")))


def _network_attrs(client: docker.DockerClient, name_or_id: str) -> dict[str, Any]:
    # networks.list leaves out the attached containers; a full inspect has them.
    data: dict[str, Any] = retry.call_with(retry.DOCKER, client.api.inspect_network,
                                           name_or_id, verbose=False)
    return data


def project_events(client: docker.DockerClient, project: str, since: float,
                   until: float | None = None) -> Iterator[dict[str, Any]]:
    """The engine's container life-cycle events for the project between `since` and
    `until` (now), oldest first. The engine keeps only its last 256 events (all
    projects together), so on a busy engine the oldest ones may be gone."""
    end = time.time() if until is None else until
    filters: dict[str, Any] = {**project_filter(project), "type": ["container"],
                               "event": list(LIFECYCLE_EVENTS)}
    stream = retry.call_with(retry.DOCKER, client.api.events, since=f"{since:.9f}",
                             until=f"{end:.9f}", filters=filters, decode=True)
    try:
        yield from stream
    finally:
        stream.close()


def parse_engine_time(text: str) -> float | None:
    """Epoch seconds from the engine's RFC 3339 times (nanoseconds cut to micro); None
    for the zero time the engine uses for "never"."""
    match = _ENGINE_TIME.fullmatch(text.strip())
    if not match or match.group(1).startswith("0001-"):
        return None
    head, frac, zone = match.groups()
    stamp = f"{head}.{(frac or '0')[:6]:0<6}{'+00:00' if zone == 'Z' else zone}"
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


def project_exists(client: docker.DockerClient, project: str) -> bool:
    """Whether anything of the project is on the engine: a container, or only a network
    or volume (an `up` that failed before creating containers)."""
    return bool(leftovers(client, project, volumes=True))


def leftovers(client: docker.DockerClient, project: str, volumes: bool = True) -> list[str]:
    """What of the project is still on the engine: `container x`, `network y`, ..."""
    flt = project_filter(project)
    found = [f"container {c.name}" for c in retry.call_with(
        retry.DOCKER, client.containers.list, all=True, filters=flt, ignore_removed=True)]
    found += [f"network {n.name}" for n in retry.call_with(
        retry.DOCKER, client.networks.list, filters=flt)]
    if volumes:
        found += [f"volume {v.name}" for v in retry.call_with(
            retry.DOCKER, client.volumes.list, filters=flt)]
    return found


@dataclass
class Teardown:
    """How `compose down` went and what it left behind."""

    error: str = ""
    left: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.error and not self.left


def compose_down(client: docker.DockerClient, project: str, remove_volumes: bool,
                 timeout: float = 300) -> Teardown:
    """`docker compose down --remove-orphans` (and `--volumes`) for the project, found by
    its label from an empty folder: no compose file is read, so a file that no longer
    parses (a missing variable, say) cannot stop the teardown. Then look for anything of
    the project that is still there."""
    result = Teardown()
    args = ["down", "--remove-orphans"] + (["--volumes"] if remove_volumes else [])
    with tempfile.TemporaryDirectory(prefix="stackci-down-") as empty:
        try:
            ComposeProject(project, Path(empty)).run(*args, timeout=timeout)
        except ComposeError as exc:
            result.error = exc.stderr.strip() or str(exc)
        except subprocess.TimeoutExpired:
            result.error = f"docker compose down did not finish within {timeout:.0f}s"
        except OSError as exc:
            result.error = f"docker compose could not run: {exc}"
    result.left = leftovers(client, project, volumes=remove_volumes)
    return result
