"""Watch every service of a stack at once until all are ready, one cannot become
ready (fail fast), or time runs out.

One thread owns all state: it takes messages from a queue that the engine's event
stream, the active probes, `docker compose up` and a slow inspect-based safety net
all feed. So a health change is acted on the moment the engine announces it, and
nothing is ever polled on a fixed sleep."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import docker
import docker.errors
import requests

from stackci.core.engine.compose import ONEOFF_LABEL, PROJECT_LABEL, SERVICE_LABEL
from stackci.core.engine.containers import ContainerState
from stackci.core.engine.events import ContainerEvent, ProjectEvents
from stackci.readiness.probes import (
    HEALTHCHECK_MIN_SPACING,
    HEALTHCHECK_RUNS_PER_SECOND,
    Attempt,
    HealthcheckProbe,
    ProbeRunner,
    RunBudget,
    make_probe,
)
from stackci.readiness.spec import AUTO, Check
from stackci.readiness.stack import ServicePlan

# The event stream is the fast path; this slow inspect pass only catches what it might
# have missed (and adopts containers that `up` left untouched because they were current).
RECONCILE_EVERY = 5.0
RECONCILE_EVERY_WITHOUT_EVENTS = 0.5
UP_STOP_GRACE = 5.0


# -- state ----------------------------------------------------------------------------

# How long a container ready only by running must stay up (see _settle_deadlines).
RUNNING_SETTLE = 1.0
# The engine may announce an OOM kill just after the container's `die` (both come from
# containerd, on separate paths): an exit with 137 waits this long for it before the
# verdict, so it reads "out of memory", not "code 137".
OOM_GRACE = 0.3
OOM_EXIT_CODE = 137
# The index under which a container's own healthcheck, run by StackCI, counts as passed
# (the wait's checks count from 0).
HEALTHCHECK = -1

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
    probes: list[ProbeRunner] = field(default_factory=list)
    health_probe: ProbeRunner | None = None  # its healthcheck, run by StackCI


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
    probes: list[ProbeRunner] = field(default_factory=list)
    ready_at: float | None = None
    ready_detail: str = ""
    trigger_time: float | None = None  # when the engine event that made it ready was emitted
    failure: str | None = None
    problem: str | None = None  # a setback it may recover from (fail-fast off)
    pending: str = ""  # why it was not ready yet when the wait stopped for another reason
    first_start: float | None = None  # when its first container first started

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def settled(self) -> bool:
        return self.ready_at is not None or self.failure is not None

    def ordered_containers(self) -> list[ContainerWatch]:
        return sorted(self.containers.values(), key=lambda c: (c.number, c.name))


@dataclass
class WaitResult:
    services: dict[str, ServiceWatch]
    started: float
    finished: float
    up_code: int | None  # None: `up` was still running and was stopped
    up_output: str

    @property
    def ok(self) -> bool:
        return self.up_code == 0 and all(s.ready_at is not None
                                         for s in self.services.values())


# -- messages -------------------------------------------------------------------------

@dataclass(frozen=True)
class _StreamEnded:
    pass


@dataclass(frozen=True)
class _ProbeReport:
    service: str
    container_id: str  # "" for a service-level check
    index: int
    attempt: Attempt
    at: float
    runner: ProbeRunner  # a report from a runner since replaced (a restart) is stale


@dataclass(frozen=True)
class _UpDone:
    code: int
    output: str
    at: float


@dataclass(frozen=True)
class _Snapshot:
    taken_at: float
    containers: list[ContainerState]


_Message = ContainerEvent | _StreamEnded | _ProbeReport | _UpDone | _Snapshot


# -- the watcher ----------------------------------------------------------------------

class StackWatcher:
    def __init__(
        self,
        *,
        client: docker.DockerClient,
        streams: docker.DockerClient,
        project: str,
        plans: Iterable[tuple[ServicePlan, tuple[Check, ...], float | None, float | None]],
        timeout: float,
        fail_fast: bool,
        say: Callable[[str], None],
        debug: Callable[[str], None],
        run_healthchecks: bool = True,
    ) -> None:
        """`client` makes short calls (list, inspect) and must have a timeout; `streams`
        follows the event stream and logs and runs the exec checks, so it has none.
        `plans`: per service its plan, checks, own timeout (None: only the overall
        `timeout`) and probe interval. `run_healthchecks`: run each container's own
        healthcheck between the engine's runs of it (see HealthcheckProbe)."""
        self.client = client
        self.streams = streams
        self.project = project
        self.timeout = timeout
        self.fail_fast = fail_fast
        self.run_healthchecks = run_healthchecks
        self._healthcheck_runs = RunBudget(HEALTHCHECK_RUNS_PER_SECOND)
        self._say = say
        self._debug = debug
        self._plans = list(plans)
        self._queue: queue.Queue[_Message] = queue.Queue()
        self.services: dict[str, ServiceWatch] = {}
        self.started = 0.0
        self._up_done: _UpDone | None = None  # as the loop learned it
        self._up_final: _UpDone | None = None  # as the waiter thread saw it end
        self._up_proc: subprocess.Popen[str] | None = None
        self._events_alive = True
        self._stopping = threading.Event()
        self._resolved: dict[str, str] = {}

    # -- the loop ---------------------------------------------------------------------
    def run(self, up: subprocess.Popen[str], started: float) -> WaitResult:
        """Watch `up` (`docker compose up`, started at `started`, seconds since the
        epoch) and the project's containers until settled; `up` is stopped if it is
        still running then. The event subscription replays from `started` on, so what
        happened before it was made is not missed."""
        self.started = started
        for plan, checks, own_timeout, interval in self._plans:
            self.services[plan.name] = ServiceWatch(plan, checks, own_timeout,
                                                    self.started + self.timeout, interval)
        self._up_proc = up
        waiter = threading.Thread(target=self._wait_for_up, daemon=True, name="up")
        events: ProjectEvents | None = None
        try:
            events = ProjectEvents(self.streams, self.project, self._on_event, since=started)
            waiter.start()
            threading.Thread(target=self._reconcile_loop, daemon=True, name="inspect").start()
            while not self._finished():
                self._handle(self._next_message())
                self._check_deadlines(time.time())
            self._drain()
            now = time.time()
            self._give_verdicts(due_by=None)  # the report must not leave an exit unjudged
            self._check_deadlines(now)  # the overall deadline may have ended the loop
            for service in self.services.values():
                if not service.settled:
                    service.pending = self.pending_reason(service, now)
        finally:
            self._stopping.set()
            for service in self.services.values():
                self._stop_probes(service)
            if events is not None:
                events.close()
            stopped = self._stop_up(up, waiter)
        done = self._up_final
        return WaitResult(self.services, self.started, time.time(),
                          None if stopped or done is None else done.code,
                          done.output if done else "")

    def _next_message(self) -> _Message | None:
        wake = min([s.deadline for s in self.services.values() if not s.settled]
                   + [d for d in self._settle_deadlines() if d > time.time()]
                   + [c.verdict_due for _, c in self._awaiting_verdict() if c.verdict_due]
                   + [self.started + self.timeout])
        try:
            return self._queue.get(timeout=max(0.0, wake - time.time()))
        except queue.Empty:
            return None

    def _drain(self) -> None:
        """Take in what already arrived, so the report is as current as it can be."""
        while True:
            try:
                message = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(message, ContainerEvent | _UpDone):
                self._handle(message)

    def _finished(self) -> bool:
        now = time.time()
        if now >= self.started + self.timeout:
            return True
        watched = self.services.values()
        failed = any(s.failure for s in watched)
        if failed and self.fail_fast:
            return True
        if not all(s.settled for s in watched) or self._awaiting_verdict():
            return False
        if any(now < deadline for deadline in self._settle_deadlines()):
            return False
        return self._up_done is not None or failed

    def _settle_deadlines(self) -> list[float]:
        """A service that is ready only because its container runs (no healthcheck to
        say more) must stay up RUNNING_SETTLE seconds before the wait ends: a crash loop
        is `running` too, for a moment, between its restarts."""
        return [
            service.ready_at + RUNNING_SETTLE
            for service in self.services.values()
            if service.ready_at is not None and service.failure is None
            and any(c.running and c.has_health is not True
                    for c in service.containers.values())
        ]

    def _handle(self, message: _Message | None) -> None:
        if isinstance(message, ContainerEvent):
            self._on_container_event(message)
        elif isinstance(message, _ProbeReport):
            self._on_probe(message)
        elif isinstance(message, _Snapshot):
            self._on_snapshot(message)
        elif isinstance(message, _UpDone):
            self._on_up_done(message)
        elif isinstance(message, _StreamEnded):
            self._events_alive = False

    # -- feeding the queue (other threads) ----------------------------------------------
    def _on_event(self, event: ContainerEvent | None) -> None:
        self._queue.put(_StreamEnded() if event is None else event)

    def _wait_for_up(self) -> None:
        assert self._up_proc is not None
        out, _ = self._up_proc.communicate()
        self._up_final = _UpDone(self._up_proc.returncode, out or "", time.time())
        self._queue.put(self._up_final)

    def _reconcile_loop(self) -> None:
        while not self._stopping.wait(RECONCILE_EVERY if self._events_alive
                                      else RECONCILE_EVERY_WITHOUT_EVENTS):
            taken_at = time.time()
            try:
                found = self._inspect_project()
            except (docker.errors.DockerException, requests.RequestException):
                continue  # the next pass will do
            self._queue.put(_Snapshot(taken_at, found))

    def _inspect_project(self, skip: frozenset[str] = frozenset()) -> list[ContainerState]:
        """Inspect the project's containers of watched services, but those in `skip`."""
        listed = self.client.api.containers(
            all=True, filters={"label": f"{PROJECT_LABEL}={self.project}"})
        infos = []
        for summary in listed:
            labels = summary.get("Labels") or {}
            if labels.get(ONEOFF_LABEL) == "True" or summary["Id"] in skip or \
                    labels.get(SERVICE_LABEL) not in self.services:
                continue
            try:
                infos.append(ContainerState.from_inspect(
                    self.client.api.inspect_container(summary["Id"])))
            except docker.errors.NotFound:
                continue
        return infos

    # -- compose up ---------------------------------------------------------------------
    def _on_up_done(self, done: _UpDone) -> None:
        self._up_done = done
        seconds = done.at - self.started
        # Containers that `up` found current were not restarted: no event names them.
        # Those that events already told of as started need no inspecting (this thread
        # must not dawdle).
        known = frozenset(c.id for s in self.services.values()
                          for c in s.containers.values() if c.starts)
        try:
            self._on_snapshot(_Snapshot(done.at, self._inspect_project(skip=known)))
        except (docker.errors.DockerException, requests.RequestException) as exc:
            self._debug(f"could not list the project's containers: {exc}")
        if done.code == 0:
            self._debug(f"docker compose up -d finished after {seconds:.2f} s")
        else:
            self._say(f"docker compose up failed after {seconds:.1f} s")
        reason = ("no container was started for it" if done.code == 0 else
                  "was not started: docker compose up failed")
        for service in self.services.values():
            never_started = not any(c.starts for c in service.containers.values())
            if never_started and not service.settled:
                self._fail(service, reason, recoverable=False)

    def _stop_up(self, proc: subprocess.Popen[str], waiter: threading.Thread) -> bool:
        """Stop `up` if it is still running (its waiter thread then records how it
        ended); True when it had to be stopped."""
        stopped = proc.poll() is None
        if stopped:
            self._say("stopping docker compose up, which was still running")
            proc.terminate()
        if waiter.ident is None:  # the watch broke off before it began: read up's end too
            waiter.start()
        waiter.join(UP_STOP_GRACE)
        if waiter.is_alive():
            proc.kill()
            waiter.join(UP_STOP_GRACE)
        return stopped

    # -- engine events ------------------------------------------------------------------
    def _on_container_event(self, event: ContainerEvent) -> None:
        service = self.services.get(event.service)
        if service is None or service.failure:
            return
        container = service.containers.get(event.container_id)
        if container is None:
            # Only containers created or started from now on are this run's; a container
            # that `up` replaces dies without ever having been tracked.
            if event.action not in ("create", "start"):
                return
            container = self._track(service, event.container_id, event.name, event.number)
        container.last_event = max(container.last_event, event.time)
        if event.action == "start":
            self._on_start(service, container, event.time)
        elif event.action == "die":
            self._on_die(service, container, event.exit_code, event.time)
        elif event.action == "oom":
            container.oom = True
            if container.verdict_due is not None:
                self._give_verdict(service, container)
        elif event.action == "health_status" and event.health:
            self._on_health(service, container, event.health, event.time)
        elif event.action == "destroy":
            container.running = False

    def _track(self, service: ServiceWatch, container_id: str, name: str,
               number: int) -> ContainerWatch:
        container = ContainerWatch(container_id, name, number, service.plan.has_healthcheck)
        service.containers[container_id] = container
        return container

    def _on_start(self, service: ServiceWatch, container: ContainerWatch, at: float) -> None:
        if container.starts and container.running:
            return  # the same start told twice (by an event and by inspect)
        if container.verdict_due is not None:
            self._give_verdict(service, container)
        if service.failure:
            return
        if container.starts:
            how = f" after it exited with code {container.exit_code}" \
                if container.exit_code is not None else ""
            self._problem(service, f"restarted (restart {container.starts}){how}",
                          recoverable=True)
            if service.failure:
                return
            self._forget_passes(service, container)
        if service.first_start is None:
            # A container left running from before counts from now.
            service.first_start = max(at, self.started)
            if service.own_timeout:
                service.deadline = min(service.first_start + service.own_timeout,
                                       self.started + self.timeout)
        container.starts += 1
        container.started_at = at
        container.running = True
        container.exit_code = None
        container.oom = False
        container.log_ended = False
        if container.has_health is None:
            container.has_health = self._image_has_healthcheck(container.id)
        if not container.has_health and any(c.kind == "healthy" for c in service.checks):
            self._fail(service, "has no healthcheck, so it cannot become healthy (define one "
                       "in the compose file, or wait for another check)", recoverable=False)
            return
        if container.has_health and container.health is None:
            container.health = "starting"
        self._start_probes(service, container)
        self._evaluate(service, at)

    def _on_die(self, service: ServiceWatch, container: ContainerWatch, code: int | None,
                at: float) -> None:
        if not container.running and container.exit_code is not None:
            return  # already known
        container.running = False
        container.exit_code = code if code is not None else -1
        container.died_at = at
        if container.exit_code == OOM_EXIT_CODE and not container.oom:
            container.verdict_due = time.time() + OOM_GRACE
            return
        self._give_verdict(service, container)

    def _forget_passes(self, service: ServiceWatch, container: ContainerWatch) -> None:
        """A restarted container starts from nothing: what its last run passed (its
        health, a log line, a command, the service's endpoints) must pass again."""
        container.passed.clear()
        if container.has_health:
            container.health = "starting"  # the engine resets it without an event
        for probe in service.probes:
            probe.stop()
        service.probes = []
        service.passed.clear()
        service.progress.clear()
        self._resolved.pop(service.name, None)  # its address may have changed

    def _give_verdict(self, service: ServiceWatch, container: ContainerWatch) -> None:
        """Judge how the container's last run ended: a failure, or maybe readiness (a
        one-shot that completed)."""
        container.verdict_due = None
        at = container.died_at or time.time()
        lived = _seconds(at - (container.started_at or self.started))
        reason = None
        if container.oom:
            reason = f"was killed for running out of memory after {lived}"
        elif container.exit_code != 0:
            reason = f"exited with code {container.exit_code} after {lived}"
        elif any(c.needs_running or (c.kind == AUTO and container.has_health)
                 for c in service.checks):
            reason = f"exited with code 0 after {lived}, but it has to keep running"
        elif container.log_ended and self._pending_log(service, container):
            reason = (f"exited with code 0 after {lived} before "
                      f"/{self._pending_log(service, container)}/ appeared in its log")
        if reason:
            recoverable = service.plan.restarts_after(
                container.exit_code if container.exit_code is not None else -1)
            self._problem(service, reason, recoverable)
        else:
            self._evaluate(service, at)

    def _on_health(self, service: ServiceWatch, container: ContainerWatch, health: str,
                   at: float) -> None:
        container.has_health = True
        previous, container.health = container.health, health
        if health in ("healthy", "unhealthy") and container.health_probe is not None:
            container.health_probe.stop()  # the engine has spoken
            container.probes.remove(container.health_probe)
            container.health_probe = None
        if health == "unhealthy" and previous != "unhealthy":
            output = self._last_health_output(container.id)
            lived = _seconds(at - (container.started_at or self.started))
            self._problem(service, f"became unhealthy after {lived}"
                          + (f": {output}" if output else ""), recoverable=True)
        else:
            self._evaluate(service, at)

    def _on_snapshot(self, snapshot: _Snapshot) -> None:
        """Bring the state in line with `docker inspect`, for containers that no event
        has spoken of since the snapshot was taken."""
        for info in snapshot.containers:
            service = self.services.get(info.service)
            if service is None or service.failure:
                continue
            container = service.containers.get(info.id)
            if container is None:
                if self._up_done is None or snapshot.taken_at < self._up_done.at:
                    continue  # may be an old container that `up` is about to replace
                container = self._track(service, info.id, info.name, info.number)
            elif container.last_event >= snapshot.taken_at:
                continue
            self._apply_inspect(service, container, info)

    def _apply_inspect(self, service: ServiceWatch, container: ContainerWatch,
                       info: ContainerState) -> None:
        if info.health is not None:
            container.has_health = True
        elif container.has_health is None:
            container.has_health = False
        if info.running and (not container.running or container.starts == 0):
            self._on_start(service, container, info.started_at or time.time())
        if info.health and info.health != container.health and not service.failure:
            self._on_health(service, container, info.health, time.time())
        if not info.running and info.exit_code is not None and not service.failure \
                and (container.running or container.exit_code is None):
            container.oom = container.oom or info.oom_killed
            if container.starts == 0:
                container.started_at = info.started_at
            self._on_die(service, container, info.exit_code, info.finished_at or time.time())

    # -- probes ---------------------------------------------------------------------------
    def _start_probes(self, service: ServiceWatch, container: ContainerWatch) -> None:
        for probe in container.probes:
            probe.stop()
        # After a restart, only what the new run logs counts: the log still holds the
        # old run's lines, all from before it ended.
        since = container.died_at + 1e-6 if container.starts > 1 and container.died_at \
            else None
        container.probes = [
            self._probe(service, check, index, container.id, since)
            for index, check in enumerate(service.checks)
            if check.kind in ("exec", "log") and index not in container.passed
        ]
        container.health_probe = None
        self._start_health_probe(service, container)
        if not service.probes:
            service.probes = [
                self._probe(service, check, index, "")
                for index, check in enumerate(service.checks)
                if check.kind in ("http", "tcp") and index not in service.passed
            ]

    def _start_health_probe(self, service: ServiceWatch, container: ContainerWatch) -> None:
        if self.run_healthchecks and container.has_health and container.health != "healthy" \
                and any(c.kind in ("healthy", AUTO) for c in service.checks):
            container.health_probe = self._probe(service, Check("healthy"), HEALTHCHECK,
                                                 container.id)
            container.probes.append(container.health_probe)

    def _probe(self, service: ServiceWatch, check: Check, index: int,
               container_id: str, log_since: float | None = None) -> ProbeRunner:
        def report(attempt: Attempt) -> None:
            self._queue.put(_ProbeReport(service.name, container_id, index, attempt,
                                         time.time(), runner))

        if index == HEALTHCHECK:
            # Not at once: a healthcheck run the moment its container starts hardly
            # ever passes.
            runner = ProbeRunner(
                HealthcheckProbe(self.streams, container_id, service.interval,
                                 self._healthcheck_runs),
                service.interval, report, first_delay=HEALTHCHECK_MIN_SPACING * 2,
                start_after=HEALTHCHECK_MIN_SPACING)
        else:
            runner = ProbeRunner(
                make_probe(check, self.streams, container_id or None,
                           lambda host: self._resolve(service.name, host), log_since),
                service.interval, report)
        return runner.start()

    def _on_probe(self, report: _ProbeReport) -> None:
        service = self.services[report.service]
        if service.settled:
            return
        container = service.containers.get(report.container_id)
        if report.runner not in (container.probes if container else service.probes):
            return
        key = (report.container_id, report.index)
        attempt = report.attempt
        if report.index == HEALTHCHECK and attempt.final:
            return  # nothing for StackCI to run: the engine's verdict is awaited
        progress = service.progress.get(key)
        if progress and progress.detail == attempt.detail:
            progress.attempts += 1
        else:
            service.progress[key] = Progress(attempt.detail, report.at,
                                             (progress.attempts + 1) if progress else 1)
        if attempt.ok:
            (container.passed if container else service.passed).add(report.index)
            self._evaluate(service, report.at)
        elif attempt.final and container is not None:
            # The log ends when the container stops. Its `die` event (maybe not here yet)
            # then says how it ended; once it has, there is nothing more to wait for.
            container.log_ended = True
            if not container.running and container.exit_code is not None \
                    and container.verdict_due is None:
                check = service.checks[report.index]
                self._problem(service, f"exited with code {container.exit_code} before "
                                       f"/{check.target}/ appeared in its log",
                              recoverable=service.plan.restarts_after(container.exit_code))

    def _pending_log(self, service: ServiceWatch, container: ContainerWatch) -> str:
        for index, check in enumerate(service.checks):
            if check.kind == "log" and index not in container.passed:
                return check.target
        return ""

    def _stop_probes(self, service: ServiceWatch) -> None:
        for probe in service.probes:
            probe.stop()
        for container in service.containers.values():
            for probe in container.probes:
                probe.stop()

    def _resolve(self, service_name: str, host: str) -> str | None:
        """A host naming a service of the project becomes its container's address."""
        if host not in self.services and host != service_name and host:
            return host
        host = host or service_name
        if host in self._resolved:
            return self._resolved[host]
        listed = self.client.api.containers(filters={
            "label": [f"{PROJECT_LABEL}={self.project}", f"{SERVICE_LABEL}={host}"],
            "status": "running"})
        for summary in sorted(listed, key=lambda s: s.get("Names") or []):
            info = ContainerState.from_inspect(self.client.api.inspect_container(summary["Id"]))
            address = info.address(self.project)
            if address:
                self._resolved[host] = address
                return address
        return None

    # -- engine lookups -------------------------------------------------------------------
    def _image_has_healthcheck(self, container_id: str) -> bool:
        try:
            attrs = self.client.api.inspect_container(container_id)
        except (docker.errors.DockerException, requests.RequestException):
            return False
        test = ((attrs.get("Config") or {}).get("Healthcheck") or {}).get("Test") or []
        return bool(test) and test != ["NONE"]

    def _last_health_output(self, container_id: str) -> str:
        try:
            attrs = self.client.api.inspect_container(container_id)
        except (docker.errors.DockerException, requests.RequestException):
            return ""
        return " ".join(ContainerState.from_inspect(attrs).health_output.split())[:300]

    # -- verdicts -------------------------------------------------------------------------
    def _evaluate(self, service: ServiceWatch, trigger: float) -> None:
        if service.settled or not self._is_ready(service):
            return
        now = time.time()
        service.ready_at = now
        service.trigger_time = trigger
        service.problem = None
        service.ready_detail = self._ready_detail(service)
        self._stop_probes(service)
        self._say(f"{service.name}: {service.ready_detail} after "
                  f"{_seconds(now - self.started)}")
        self._debug(f"{service.name}: ready mark {now:.6f}, trigger {trigger:.6f}, "
                    f"latency {(now - trigger) * 1000:.1f} ms")

    def _is_ready(self, service: ServiceWatch) -> bool:
        containers = list(service.containers.values())
        if len(containers) < service.plan.replicas:
            return False
        for index, check in enumerate(service.checks):
            if check.per_container:
                if not all(_container_passes(c, check, index) for c in containers):
                    return False
            elif index not in service.passed:
                return False
        return True

    def _ready_detail(self, service: ServiceWatch) -> str:
        parts = []
        first = service.ordered_containers()[0]
        for index, check in enumerate(service.checks):
            if check.kind == AUTO and not first.has_health:
                parts.append("running" if first.running else "completed (exit 0)")
            elif check.kind in ("healthy", AUTO):
                # Known from the healthcheck that StackCI ran, before the engine said so.
                early = any(c.health != "healthy" for c in service.containers.values())
                parts.append("healthcheck passed" if early else "healthy")
            elif check.kind == "running":
                parts.append(check.kind)
            elif check.kind == "completed":
                parts.append("completed (exit 0)")
            else:
                progress = [p for (_, i), p in service.progress.items() if i == index]
                detail = progress[-1].detail if progress else "passed"
                parts.append(f"{_check_subject(check)} {detail}")
        return ", ".join(parts)

    def _problem(self, service: ServiceWatch, reason: str, recoverable: bool) -> None:
        if self.fail_fast or not recoverable:
            self._fail(service, reason, recoverable)
            return
        service.problem = reason
        if service.ready_at is not None:
            service.ready_at = None
        self._say(f"{service.name}: {reason}; still waiting (fail-fast is off)")

    def _fail(self, service: ServiceWatch, reason: str, recoverable: bool) -> None:
        del recoverable  # the verdict is final either way; kept for the call sites' sake
        service.failure = reason
        service.ready_at = None
        self._stop_probes(service)
        self._say(f"{service.name}: {reason}")

    def _awaiting_verdict(self) -> list[tuple[ServiceWatch, ContainerWatch]]:
        return [(service, container) for service in self.services.values()
                if not service.failure
                for container in service.containers.values()
                if container.verdict_due is not None]

    def _give_verdicts(self, due_by: float | None) -> None:
        """Judge the exits waiting for an OOM event: those due by `due_by`, or all."""
        for service, container in self._awaiting_verdict():
            assert container.verdict_due is not None
            if (due_by is None or container.verdict_due <= due_by) and not service.failure:
                self._give_verdict(service, container)

    def _check_deadlines(self, now: float) -> None:
        self._give_verdicts(due_by=now)
        for service in self.services.values():
            if not service.settled and now >= service.deadline:
                self._fail(service, self.pending_reason(service, now), recoverable=False)

    def pending_reason(self, service: ServiceWatch, now: float) -> str:
        """Why `service` is not ready yet, in the words of its first pending check."""
        containers = service.ordered_containers()
        begin = service.first_start if service.own_timeout and service.first_start \
            else self.started
        waited = _seconds(now - begin)
        if not containers:
            still = " (docker compose up is still running)" if self._up_done is None else ""
            return f"no container was started within {waited}{still}"
        if len(containers) < service.plan.replicas:
            return (f"only {len(containers)} of {service.plan.replicas} containers were "
                    f"started within {waited}")
        reason = ""
        for index, check in enumerate(service.checks):
            reason = self._check_pending(service, containers, index, check, now=now, waited=waited)
            if reason:
                break
        if service.problem and reason:
            reason += f"; earlier it {service.problem}"
        return reason or f"not ready after {waited}"

    def _check_pending(self, service: ServiceWatch, containers: list[ContainerWatch],
                       index: int, check: Check, *, now: float, waited: str) -> str:
        pending = [c for c in containers if not _container_passes(c, check, index)]
        if check.per_container and not pending:
            return ""
        if not check.per_container and index in service.passed:
            return ""
        first = pending[0] if pending else containers[0]
        kind = check.kind
        if kind == AUTO:
            kind = "healthy" if first.has_health else "running"
        if kind == "healthy":
            ran = service.progress.get((first.id, HEALTHCHECK))
            said = f"; its healthcheck, run by StackCI, {ran.detail}" if ran else ""
            return f"not healthy after {waited} (health: {first.health or 'none'}{said})"
        if kind == "running":
            state = _state(first)
            if state == "created" and self._up_done is None and service.plan.depends_on:
                state += ", docker compose up had not started it yet: it waits for " + \
                    ", ".join(service.plan.depends_on)
            return f"not running after {waited} ({state})"
        if kind == "completed":
            return f"had not exited after {waited}; it has to complete with exit code 0"
        progress = service.progress.get((first.id if check.per_container else "", index))
        if kind == "log":
            return f"/{check.target}/ did not appear in its log within {waited}"
        if progress is None:
            return f"{_check_subject(check)} was never checked within {waited}"
        return f"{_check_subject(check)} {progress.detail} for {_seconds(now - progress.since)}"


def _container_passes(container: ContainerWatch, check: Check, index: int) -> bool:
    kind = check.kind
    if kind == AUTO:
        if container.has_health:
            return _healthy(container)
        if container.has_health is None:
            return False
        return container.running or container.exit_code == 0
    if kind == "healthy":
        return _healthy(container)
    if kind == "running":
        return container.running
    if kind == "completed":
        return not container.running and container.exit_code == 0
    return index in container.passed


def _healthy(container: ContainerWatch) -> bool:
    """The engine says so, or its healthcheck passed when StackCI ran it in this run of
    the container (the engine would say so at its next run of it)."""
    return container.health == "healthy" or (
        HEALTHCHECK in container.passed and container.running
        and container.health != "unhealthy")


def _check_subject(check: Check) -> str:
    if check.kind == "exec":
        return f"`{check.target}`"
    if check.kind == "tcp" and ":" not in check.target:
        return f"port {check.target}"
    return check.target


def _state(container: ContainerWatch) -> str:
    if container.running:
        return "running"
    if container.exit_code is not None:
        return f"exited with code {container.exit_code}"
    return "created"


def _seconds(value: float) -> str:
    value = max(value, 0.0)
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"
