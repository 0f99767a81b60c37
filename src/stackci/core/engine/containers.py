"""What `docker inspect` says about one container, read into plain fields.

Used wherever an action reports on a container (its state, exit code, health-check
output, published ports) or needs to reach it (its address on a project network)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import docker

from stackci.core.engine import retry
from stackci.core.engine.compose import NUMBER_LABEL, SERVICE_LABEL

# Addresses that mean "every interface"; a client reaches them through loopback.
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    service: str
    number: int
    status: str  # created, running, restarting, exited, dead, paused
    running: bool
    exit_code: int | None  # None while it has never stopped
    oom_killed: bool
    restart_count: int
    started_at: float | None  # seconds since the epoch
    finished_at: float | None
    health: str | None  # starting, healthy, unhealthy; None without a healthcheck
    health_output: str  # what the last health check printed
    health_exit_code: int | None
    restart_policy: str  # no, always, unless-stopped, on-failure
    ports: dict[str, str]  # "8000/tcp" -> "127.0.0.1:49153"
    networks: dict[str, str]  # network name -> IP address
    network_mode: str

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> ContainerInfo:
        state = attrs.get("State") or {}
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        health = state.get("Health") or None
        health_log = (health or {}).get("Log") or []
        last_check = health_log[-1] if health_log else {}
        finished = parse_engine_time(state.get("FinishedAt", ""))
        host_config = attrs.get("HostConfig") or {}
        settings = attrs.get("NetworkSettings") or {}
        return cls(
            id=str(attrs.get("Id", "")),
            name=str(attrs.get("Name", "")).lstrip("/"),
            service=str(labels.get(SERVICE_LABEL, "")),
            number=_int(labels.get(NUMBER_LABEL), 1),
            status=str(state.get("Status", "")),
            running=bool(state.get("Running")),
            exit_code=int(state["ExitCode"]) if finished is not None else None,
            oom_killed=bool(state.get("OOMKilled")),
            restart_count=_int(attrs.get("RestartCount"), 0),
            started_at=parse_engine_time(state.get("StartedAt", "")),
            finished_at=finished,
            health=str(health["Status"]) if health else None,
            health_output=str(last_check.get("Output") or "").strip(),
            health_exit_code=last_check.get("ExitCode"),
            restart_policy=str((host_config.get("RestartPolicy") or {}).get("Name") or "no"),
            ports=published_ports(settings.get("Ports") or {}),
            networks={name: str(net.get("IPAddress") or "")
                      for name, net in (settings.get("Networks") or {}).items()},
            network_mode=str(host_config.get("NetworkMode") or ""),
        )

    def address(self, project: str) -> str | None:
        """The address to reach this container at: its IP on a network of `project`
        (any network when it has none of those), loopback with host networking."""
        if self.network_mode == "host":
            return "127.0.0.1"
        own = [ip for name, ip in self.networks.items() if name.startswith(f"{project}_") and ip]
        other = [ip for ip in self.networks.values() if ip]
        found = own or other
        return found[0] if found else None


def inspect(client: docker.DockerClient, container_id: str) -> ContainerInfo:
    attrs = retry.call_with(retry.DOCKER, client.api.inspect_container, container_id)
    return ContainerInfo.from_attrs(attrs)


def published_ports(ports: Mapping[str, Any]) -> dict[str, str]:
    """`{"8000/tcp": "127.0.0.1:49153"}`: one reachable host address per published
    port, IPv4 preferred; "every interface" becomes loopback."""
    found: dict[str, str] = {}
    for port, bindings in ports.items():
        if not bindings:
            continue  # exposed, not published
        ordered = sorted(bindings, key=lambda b: ":" in str(b.get("HostIp", "")))
        host_ip = str(ordered[0].get("HostIp") or "")
        host_ip = _ANY_ADDRESS.get(host_ip, host_ip)
        host = f"[{host_ip}]" if ":" in host_ip else host_ip
        found[port] = f"{host}:{ordered[0].get('HostPort')}"
    return found


def parse_engine_time(text: str) -> float | None:
    """Seconds since the epoch from the engine's RFC 3339 times (nanoseconds cut to
    microseconds); None for the zero time the engine uses for "never"."""
    if not text or text.startswith("0001-"):
        return None
    head, _, frac = text.rstrip("Z").partition(".")
    frac = "".join(ch for ch in frac if ch.isdigit())[:6].ljust(6, "0")
    try:
        return datetime.fromisoformat(f"{head}.{frac}+00:00").timestamp()
    except ValueError:
        return None


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default
