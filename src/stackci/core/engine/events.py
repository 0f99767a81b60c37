"""The engine's event stream for one Compose project: container starts, deaths, OOM
kills and health changes, as they happen.

A reader thread hands every container event to a callback within a millisecond or so
of the engine emitting it. Nothing is missed between taking a time and subscribing:
with `since`, the engine first replays the events it emitted from that time on (it keeps
its last 256), then streams the new ones; an event at the seam may come twice, none is
lost. So an action may start Compose first and subscribe a moment later."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import docker

from stackci.core.engine.compose import NUMBER_LABEL, PROJECT_LABEL, SERVICE_LABEL

# Streams (events, followed logs) stay open for minutes without a byte: no read timeout.
# Each open stream holds a connection, so the pool is larger than docker-py's default.
STREAM_POOL_SIZE = 64


# Short calls (list, inspect, a log tail) give up on an engine that stopped answering.
LOOKUP_TIMEOUT = 30.0


def stream_client() -> docker.DockerClient:
    """A client for long-lived streams and concurrent probes."""
    import docker  # noqa: PLC0415 - see core.engine.compose
    return docker.from_env(timeout=None, max_pool_size=STREAM_POOL_SIZE)


def lookup_client(like: docker.DockerClient) -> docker.DockerClient:
    """A client for short calls to the engine `like` talks to, with a timeout; it
    reuses `like`'s API version, so making it asks the engine nothing."""
    import docker  # noqa: PLC0415 - see core.engine.compose
    return docker.from_env(timeout=LOOKUP_TIMEOUT, max_pool_size=STREAM_POOL_SIZE,
                           version=like.api.api_version)


@dataclass(frozen=True)
class ContainerEvent:
    """One container event. `action` is the engine's (`create`, `start`, `die`, `oom`,
    `kill`, `destroy`, `restart`, ...) with `health_status: x` reduced to
    `health_status` and `x` kept in `health`. Exec events are not container events
    here: a command run in a container (three events per run) says nothing of its
    state."""

    action: str
    container_id: str
    name: str
    service: str
    number: int
    time: float  # when the engine emitted it, seconds since the epoch
    exit_code: int | None = None
    health: str | None = None

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> ContainerEvent | None:
        action = str(raw.get("Action") or raw.get("status") or "")
        if raw.get("Type") != "container" or action.startswith("exec_"):
            return None
        health = None
        if action.startswith("health_status"):
            action, _, health = action.partition(":")
            health = health.strip()
        actor = raw.get("Actor") or {}
        attrs = actor.get("Attributes") or {}
        exit_code = attrs.get("exitCode")
        try:
            number = int(attrs.get(NUMBER_LABEL, "1"))
        except ValueError:
            number = 1
        nanos = raw.get("timeNano")
        return cls(
            action=action,
            container_id=str(actor.get("ID") or raw.get("id") or ""),
            name=str(attrs.get("name", "")),
            service=str(attrs.get(SERVICE_LABEL, "")),
            number=number,
            time=int(nanos) / 1e9 if nanos else float(raw.get("time") or 0),
            exit_code=int(exit_code) if exit_code not in (None, "") else None,
            health=health,
        )


class ProjectEvents:
    """Container events of the Compose project `project`, delivered to `sink` from a
    reader thread. `sink` is also called once with None when the stream ends (closed,
    or broken by the engine)."""

    def __init__(self, client: docker.DockerClient, project: str,
                 sink: Callable[[ContainerEvent | None], None],
                 since: float | None = None) -> None:
        """`since`: seconds since the epoch, by the engine's clock (the engine is local:
        it is ours); events from then on are delivered, also those emitted before
        this subscription. Without it, only those emitted once the engine has
        registered the subscription."""
        self._sink = sink
        self._stream: Iterator[dict[str, Any]] = client.api.events(
            decode=True, since=None if since is None else f"{since:.9f}",
            filters={"type": "container", "label": f"{PROJECT_LABEL}={project}"})
        self._thread = threading.Thread(target=self._read, name="engine-events", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for raw in self._stream:
                event = ContainerEvent.from_raw(raw)
                if event is not None:
                    self._sink(event)
        except Exception:  # noqa: BLE001, S110 - the sink hears of the end just below
            pass
        finally:
            # The end of the stream, by close() or not: the reader falls back on polling.
            self._sink(None)

    def close(self) -> None:
        closer = getattr(self._stream, "close", None)
        if closer is not None:
            with contextlib.suppress(Exception):  # closing a dead socket may fail
                closer()
