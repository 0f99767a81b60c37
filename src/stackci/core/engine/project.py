"""What the engine knows about one Compose project, found by its label alone (no compose
file needed): its containers in every state, one-off `run` containers included, their
networks and volumes, and the engine's event history for them."""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
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


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _label(container: Container, name: str, default: str) -> str:
    return str((container.labels or {}).get(name, default))


def _number(container: Container) -> int:
    return _int((container.labels or {}).get(NUMBER_LABEL), 0)


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
