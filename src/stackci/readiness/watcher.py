"""The loop of the wait: feeds the state machine (machine.py) and carries out what it
asks for, until every service is ready, one cannot become ready (fail fast), or time
runs out.

One thread owns the machine: it takes messages from a queue that the engine's event
stream, the active probes, `docker compose up` and a slow inspect-based safety net all
feed. So a health change is acted on the moment the engine announces it, and nothing is
ever polled on a fixed sleep."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable

import docker
import docker.errors
import requests

from stackci.core.engine.compose import ONEOFF_LABEL, PROJECT_LABEL, SERVICE_LABEL
from stackci.core.engine.containers import ContainerState, running_containers
from stackci.core.engine.events import ContainerEvent, ProjectEvents
from stackci.readiness.machine import (
    Effect,
    EngineEvent,
    ForgetAddress,
    InspectProject,
    Message,
    ProbeReport,
    Say,
    ServiceSetup,
    Snapshot,
    StartDone,
    StartProbe,
    StartServices,
    StopProbe,
    StreamEnded,
    UpDone,
    WaitMachine,
)
from stackci.readiness.probes import (
    HEALTHCHECK_MIN_SPACING,
    HEALTHCHECK_RUNS_PER_SECOND,
    HealthcheckProbe,
    ProbeRunner,
    RunBudget,
    make_probe,
    wait_for_kills,
)
from stackci.readiness.spec import RUNNING_SETTLE
from stackci.readiness.state import HEALTHCHECK, Attempt, WaitResult
from stackci.readiness.up import UP_STOP_GRACE, ComposeUp

# How long the end of the wait gives the kills of abandoned exec attempts.
KILL_GRACE = 3.0

# The event stream is the fast path; this slow inspect pass only catches what it might
# have missed (and adopts containers that `up` left untouched because they were current).
RECONCILE_EVERY = 5.0
RECONCILE_EVERY_WITHOUT_EVENTS = 0.5

_ENGINE_ERRORS = (docker.errors.DockerException, requests.RequestException)


class StackWatcher:
    def __init__(
        self,
        *,
        client: docker.DockerClient,
        streams: docker.DockerClient,
        project: str,
        setups: Iterable[ServiceSetup],
        timeout: float,
        fail_fast: bool,
        say: Callable[[str], None],
        debug: Callable[[str], None],
        run_healthchecks: bool = True,
        settle: float = RUNNING_SETTLE,
        start: Callable[[tuple[str, ...]], tuple[int, str]] | None = None,
    ) -> None:
        """`client` makes short calls (list, inspect) and must have a timeout; `streams`
        follows the event stream and logs and runs the exec checks, so it has none.
        `run_healthchecks`: run each container's own healthcheck between the engine's
        runs of it (see HealthcheckProbe). `start`: the dependency-aware start (`up` is
        then `docker compose create`, and `start(services)` starts those services,
        returning compose's exit code and output)."""
        self.client = client
        self.streams = streams
        self.project = project
        self.timeout = timeout
        self.fail_fast = fail_fast
        self.run_healthchecks = run_healthchecks
        self.settle = settle
        self._start = start
        self._starts: list[threading.Thread] = []
        self._setups = {s.plan.name: s for s in setups}
        self._healthcheck_runs = RunBudget(HEALTHCHECK_RUNS_PER_SECOND)
        self._say = say
        self._debug = debug
        self._queue: queue.Queue[Message | ContainerEvent | None] = queue.Queue()
        self._runners: dict[int, ProbeRunner] = {}
        self._stopping = threading.Event()
        self._resolved: dict[str, str] = {}
        self.machine: WaitMachine | None = None

    def run(self, up: ComposeUp, started: float) -> WaitResult:
        """Watch `up` (started at `started`, seconds since the epoch) and the project's
        containers until settled; `up` is stopped if it is still running then. The
        event subscription replays from `started` on, so what happened before it was
        made is not missed."""
        machine = self.machine = WaitMachine(
            self._setups.values(), started=started, timeout=self.timeout,
            fail_fast=self.fail_fast, run_healthchecks=self.run_healthchecks,
            settle=self.settle, staged=self._start is not None)
        events: ProjectEvents | None = None
        try:
            events = ProjectEvents(self.streams, self.project, self._on_event, since=started)
            up.watch(self._queue.put)
            threading.Thread(target=self._reconcile_loop, daemon=True, name="inspect").start()
            while not machine.finished(time.time()):
                self._apply(machine.handle(self._next_message(machine), time.time()))
            self._drain(machine)
            self._apply(machine.finish(time.time()))
        finally:
            self._stopping.set()
            for runner in self._runners.values():
                runner.stop()
            if events is not None:
                events.close()
            stopped = up.stop(self._say)
            # A start still on its way ends first: nothing may be started after the report.
            for thread in self._starts:
                thread.join(UP_STOP_GRACE)
            wait_for_kills(KILL_GRACE)
        done = up.ended
        return WaitResult(machine.services, started, time.time(),
                          None if stopped or done is None else done.code,
                          done.output if done else "", machine.up_command)

    def _next_message(self, machine: WaitMachine) -> Message | None:
        wake = machine.wake_at(time.time())
        try:
            raw = self._queue.get(timeout=max(0.0, wake - time.time()))
        except queue.Empty:
            return None
        return self._enrich(raw)

    def _drain(self, machine: WaitMachine) -> None:
        """Take in what already arrived, so the report is as current as it can be."""
        while True:
            try:
                raw = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(raw, ContainerEvent | UpDone | StartDone):
                self._apply(machine.handle(self._enrich(raw), time.time()))

    def _enrich(self, raw: Message | ContainerEvent | None) -> Message | None:
        """An engine event, with what only an inspect of its container can add."""
        if not isinstance(raw, ContainerEvent):
            return raw
        if raw.action == "health_status" and raw.health == "unhealthy":
            info = self._inspect(raw.container_id)
            return EngineEvent(raw, health_output=info.health_output if info else "")
        setup = self._setups.get(raw.service)
        if raw.action == "start" and setup is not None and setup.plan.has_healthcheck is None:
            # The compose file does not say: the image may define one.
            info = self._inspect(raw.container_id)
            return EngineEvent(raw, has_healthcheck=bool(info and info.has_healthcheck))
        return EngineEvent(raw)

    def _apply(self, effects: list[Effect]) -> None:
        assert self.machine is not None
        for effect in effects:
            if isinstance(effect, Say):
                (self._debug if effect.debug else self._say)(effect.text)
            elif isinstance(effect, StartProbe):
                self._runners[effect.token] = self._probe(effect)
            elif isinstance(effect, StopProbe):
                runner = self._runners.pop(effect.token, None)
                if runner is not None:
                    runner.stop()
            elif isinstance(effect, StartServices):
                thread = threading.Thread(target=self._start_services,
                                          args=(effect.services,), daemon=True, name="start")
                self._starts.append(thread)
                thread.start()
            elif isinstance(effect, ForgetAddress):
                self._resolved.pop(effect.service, None)
            elif isinstance(effect, InspectProject):
                taken_at = time.time()
                try:
                    found = self._inspect_project(skip=effect.skip)
                except _ENGINE_ERRORS as exc:
                    self._debug(f"could not list the project's containers: {exc}")
                    found = []
                self._apply(self.machine.handle(Snapshot(taken_at, tuple(found),
                                                         after_up=True), time.time()))

    # -- feeding the queue (other threads) ----------------------------------------------
    def _start_services(self, services: tuple[str, ...]) -> None:
        assert self._start is not None
        try:
            code, output = self._start(services)
        except Exception as exc:  # noqa: BLE001 - reported as the start's failure
            code, output = 1, f"{type(exc).__name__}: {exc}"
        self._queue.put(StartDone(services, code, output, time.time()))

    def _on_event(self, event: ContainerEvent | None) -> None:
        self._queue.put(StreamEnded() if event is None else event)

    def _reconcile_loop(self) -> None:
        machine = self.machine
        assert machine is not None
        while not self._stopping.wait(RECONCILE_EVERY if machine.events_alive
                                      else RECONCILE_EVERY_WITHOUT_EVENTS):
            taken_at = time.time()
            try:
                found = self._inspect_project()
            except _ENGINE_ERRORS:
                continue  # the next pass will do
            self._queue.put(Snapshot(taken_at, tuple(found)))

    # -- engine lookups -------------------------------------------------------------------
    def _inspect_project(self, skip: frozenset[str] = frozenset()) -> list[ContainerState]:
        """Inspect the project's containers of watched services, but those in `skip`."""
        listed = self.client.api.containers(
            all=True, filters={"label": f"{PROJECT_LABEL}={self.project}"})
        infos = []
        for summary in listed:
            labels = summary.get("Labels") or {}
            if labels.get(ONEOFF_LABEL) == "True" or summary["Id"] in skip or \
                    labels.get(SERVICE_LABEL) not in self._setups:
                continue
            try:
                infos.append(ContainerState.from_inspect(
                    self.client.api.inspect_container(summary["Id"])))
            except docker.errors.NotFound:
                continue
        return infos

    def _running_containers(self, service_name: str) -> list[ContainerState]:
        return running_containers(self.client, self.project, service_name)

    def _inspect(self, container_id: str) -> ContainerState | None:
        try:
            return ContainerState.from_inspect(self.client.api.inspect_container(container_id))
        except _ENGINE_ERRORS:
            return None

    # -- probes ---------------------------------------------------------------------------
    def _probe(self, start: StartProbe) -> ProbeRunner:
        def report(attempt: Attempt) -> None:
            self._queue.put(ProbeReport(start.token, attempt))

        if start.index == HEALTHCHECK:
            # Not at once: a healthcheck run the moment its container starts hardly
            # ever passes.
            return ProbeRunner(
                HealthcheckProbe(self.streams, start.container_id, start.interval,
                                 self._healthcheck_runs),
                start.interval, report, first_delay=HEALTHCHECK_MIN_SPACING * 2,
                start_after=HEALTHCHECK_MIN_SPACING).start()
        return ProbeRunner(
            make_probe(start.check, self.streams, start.container_id or None,
                       lambda host: self._resolve(start.service, host),
                       log_since=start.log_since, deadline=start.deadline,
                       hint=lambda port: self._port_hint(start.service, port)),
            start.interval, report).start()

    def _port_hint(self, service_name: str, port: int) -> str:
        """Where the service publishes `port` when that is another host port: a check
        of localhost:8000 is refused while 8000 is published on a random port."""
        try:
            infos = self._running_containers(service_name)
        except _ENGINE_ERRORS:
            return ""
        published = sorted({p.host_port for info in infos for p in info.ports
                            if p.port == port and p.protocol == "tcp" and p.host_port})
        if not published or port in published:
            return ""
        where = ", ".join(str(p) for p in published)
        return (f" (port {port} of {service_name} is published on host port {where}; "
                f"check localhost:{published[0]}, or {service_name}:{port} on its network)")

    def _resolve(self, service_name: str, host: str) -> str | None:
        """A host naming a service of the project becomes its container's address."""
        if host not in self._setups and host != service_name and host:
            return host
        host = host or service_name
        if host in self._resolved:
            return self._resolved[host]
        for info in self._running_containers(host):
            address = info.address(self.project)
            if address:
                self._resolved[host] = address
                return address
        return None
