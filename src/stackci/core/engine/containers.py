"""One container's state, as `docker inspect` tells it: the one model of a container
that every action reads, reports and writes as JSON.

Used wherever an action reports on a container (its state, exit code, health-check
output, published ports), judges it (`problems`), or needs to reach it (its address on
a project network). docker-py is not imported here: the model is built from the plain
inspect mapping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stackci.core.engine.compose import NUMBER_LABEL, ONEOFF_LABEL, PROJECT_LABEL, SERVICE_LABEL
from stackci.core.text.times import parse_time

if TYPE_CHECKING:
    import docker

# Addresses that mean "every interface"; a client reaches them through loopback.
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104
# States in which a container has ended a run: its exit code is that run's.
_ENDED = frozenset({"exited", "dead", "restarting"})
# The signals `compose stop`/`down`/`docker kill` end a container with.
_STOP_EXIT_CODES = frozenset({137, 143})


@dataclass(frozen=True)
class PublishedPort:
    """A container port, and where the host publishes it (None: exposed only)."""

    port: int
    protocol: str
    host_ip: str | None = None
    host_port: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"port": self.port, "protocol": self.protocol, "host_ip": self.host_ip,
                "host_port": self.host_port}


@dataclass(frozen=True)
class ContainerState:
    id: str
    name: str
    service: str
    number: int
    one_off: bool  # a `compose run` container
    image: str
    status: str  # created, running, restarting, exited, dead, paused, removing
    running: bool
    exit_code: int | None  # its last run's, once one ended (exited, dead, restarting)
    oom_killed: bool
    restarts: int
    error: str  # what the engine says went wrong starting it, if anything
    created_at: float | None  # seconds since the epoch
    started_at: float | None
    finished_at: float | None
    health: str | None  # starting, healthy, unhealthy; None without a healthcheck
    health_output: str  # what the last health check printed
    health_exit_code: int | None
    has_healthcheck: bool  # its configuration (compose file or image) defines one
    restart_policy: str  # no, always, unless-stopped, on-failure
    tty: bool
    ports: tuple[PublishedPort, ...]
    networks: Mapping[str, str]  # network name -> IP address
    network_mode: str

    @classmethod
    def from_inspect(cls, attrs: Mapping[str, Any]) -> ContainerState:
        """Read the mapping `docker inspect` (or docker-py's `attrs`) gives."""
        config = attrs.get("Config") or {}
        labels = config.get("Labels") or {}
        state = attrs.get("State") or {}
        health = state.get("Health") or None
        health_log = (health or {}).get("Log") or []
        last_check = health_log[-1] if health_log else {}
        host_config = attrs.get("HostConfig") or {}
        settings = attrs.get("NetworkSettings") or {}
        status = str(state.get("Status") or "unknown")
        name = str(attrs.get("Name", "")).lstrip("/")
        return cls(
            id=str(attrs.get("Id", "")),
            name=name,
            service=str(labels.get(SERVICE_LABEL) or name),
            number=_int(labels.get(NUMBER_LABEL), 1),
            one_off=labels.get(ONEOFF_LABEL, "False") == "True",
            image=str(config.get("Image", "")),
            status=status,
            # The engine keeps Running true while a container waits to be restarted:
            # a crash loop between two runs is not running.
            running=bool(state.get("Running")) and not state.get("Restarting"),
            exit_code=_int(state.get("ExitCode"), 0) if status in _ENDED else None,
            oom_killed=bool(state.get("OOMKilled")),
            restarts=_int(attrs.get("RestartCount"), 0),
            error=str(state.get("Error") or ""),
            created_at=parse_engine_time(str(attrs.get("Created") or "")),
            started_at=parse_engine_time(str(state.get("StartedAt") or "")),
            finished_at=parse_engine_time(str(state.get("FinishedAt") or "")),
            health=str(health["Status"]) if health else None,
            health_output=str(last_check.get("Output") or "").strip(),
            health_exit_code=last_check.get("ExitCode"),
            has_healthcheck=_defines_healthcheck(config.get("Healthcheck") or {}),
            restart_policy=str((host_config.get("RestartPolicy") or {}).get("Name") or "no"),
            tty=bool(config.get("Tty")),
            ports=_ports(settings.get("Ports") or {}),
            networks={net_name: str(net.get("IPAddress") or "")
                      for net_name, net in (settings.get("Networks") or {}).items()},
            network_mode=str(host_config.get("NetworkMode") or ""),
        )

    # -- judging ------------------------------------------------------------------------
    def problems(self, oom_events: int = 0, stopped: bool = False) -> list[str]:
        """Why this container counts as failed; empty when it does not. `oom_events`:
        OOM kills the engine reported for it. `stopped`: the engine recorded a stop or
        kill for it (`compose stop`, `down`, `docker kill`), so an exit by SIGKILL or
        SIGTERM (137, 143) was asked for, unless it was an OOM kill or the engine
        reports an error."""
        found = []
        on_purpose = (stopped and self.exit_code in _STOP_EXIT_CODES and not self.oom_killed
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

    # -- reaching it --------------------------------------------------------------------
    def address(self, project: str) -> str | None:
        """The address to reach this container at: its IP on a network of `project`
        (any network when it has none of those), loopback with host networking."""
        if self.network_mode == "host":
            return "127.0.0.1"
        own = [ip for name, ip in self.networks.items() if name.startswith(f"{project}_") and ip]
        other = [ip for ip in self.networks.values() if ip]
        found = own or other
        return found[0] if found else None

    def reachable_ports(self) -> dict[str, str]:
        """`{"8000/tcp": "127.0.0.1:49153"}`: one reachable host address per published
        port, IPv4 preferred; "every interface" becomes loopback."""
        found: dict[str, str] = {}
        for published in sorted(self.ports, key=lambda p: ":" in (p.host_ip or "")):
            if published.host_port is None:
                continue
            key = f"{published.port}/{published.protocol}"
            if key in found:
                continue
            host_ip = _ANY_ADDRESS.get(published.host_ip or "", published.host_ip or "")
            host = f"[{host_ip}]" if ":" in host_ip else host_ip
            found[key] = f"{host}:{published.host_port}"
        return found

    def port_texts(self) -> list[str]:
        """The ports as `docker ps` writes them: `0.0.0.0:49153->8000/tcp`, `6379/tcp`."""
        return [f"{p.host_ip}:{p.host_port}->{p.port}/{p.protocol}" if p.host_port
                else f"{p.port}/{p.protocol}" for p in self.ports]

    # -- writing it ---------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The one JSON shape of a container, in every output and file (snake_case, as
        GitHub's own JSON; times as RFC 3339 in UTC, null for never)."""
        return {
            "id": self.id, "name": self.name, "service": self.service, "number": self.number,
            "one_off": self.one_off, "image": self.image, "state": self.status,
            "running": self.running, "exit_code": self.exit_code,
            "oom_killed": self.oom_killed, "restarts": self.restarts,
            "error": self.error or None, "health": self.health,
            "created_at": format_time(self.created_at),
            "started_at": format_time(self.started_at),
            "finished_at": format_time(self.finished_at),
            "ports": [p.to_json() for p in self.ports],
        }


def inspect(client: docker.DockerClient, container_id: str) -> ContainerState:
    from stackci.core.engine import retry  # noqa: PLC0415 - see core.engine.compose

    attrs = retry.call_with(retry.DOCKER, client.api.inspect_container, container_id)
    return ContainerState.from_inspect(attrs)


def running_containers(client: docker.DockerClient, project: str,
                       service: str) -> list[ContainerState]:
    """A service's running containers, inspected, in the order of their names."""
    listed = client.api.containers(filters={
        "label": [f"{PROJECT_LABEL}={project}", f"{SERVICE_LABEL}={service}"],
        "status": "running"})
    return [ContainerState.from_inspect(client.api.inspect_container(summary["Id"]))
            for summary in sorted(listed, key=lambda s: s.get("Names") or [])]


def _ports(ports: Mapping[str, Any]) -> tuple[PublishedPort, ...]:
    found = []
    for key, bindings in sorted(ports.items(), key=lambda item: _port_key(item[0])):
        port, protocol = _port_key(key)
        if not bindings:
            found.append(PublishedPort(port, protocol))  # exposed, not published
            continue
        for bind in bindings:
            found.append(PublishedPort(port, protocol, str(bind.get("HostIp") or ""),
                                       _int(bind.get("HostPort"), 0) or None))
    return tuple(found)


def _port_key(key: str) -> tuple[int, str]:
    port, _, protocol = key.partition("/")
    return _int(port, 0), protocol or "tcp"


def _defines_healthcheck(healthcheck: Mapping[str, Any]) -> bool:
    test = healthcheck.get("Test") or []
    return bool(test) and test[0] != "NONE"


def parse_engine_time(text: str) -> float | None:
    """Seconds since the epoch from the engine's RFC 3339 times; None for the zero time
    the engine uses for "never"."""
    if text.startswith("0001-"):
        return None
    return parse_time(text)


def format_time(seconds: float | None) -> str | None:
    """RFC 3339 in UTC with microseconds, as the JSON outputs write times."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="microseconds") \
        .replace("+00:00", "Z")


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default
