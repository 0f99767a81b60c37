"""The wait as a state machine: messages in (engine events, inspect snapshots, probe
attempts, the end of `docker compose up`), effects out (lines to say, probes to start
and stop, containers to inspect). It never touches the engine, a thread or the clock:
every message comes with the time it is handled at, so tests drive it by hand and the
loop in watcher.py does all the I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stackci.core.engine.containers import ContainerState
from stackci.core.engine.events import ContainerEvent
from stackci.readiness import verdicts
from stackci.readiness.spec import AUTO, RUNNING_SETTLE, Check
from stackci.readiness.stack import Dependency, ServicePlan
from stackci.readiness.state import (
    HEALTHCHECK,
    Attempt,
    ContainerWatch,
    Progress,
    ServiceWatch,
)

# The engine may announce an OOM kill just after the container's `die` (both come from
# containerd, on separate paths): an exit with 137 waits this long for it before the
# verdict, so it reads "out of memory", not "code 137".
OOM_GRACE = 0.3
OOM_EXIT_CODE = 137


# -- messages in ------------------------------------------------------------------------

@dataclass(frozen=True)
class EngineEvent:
    """An engine event of a project container. The loop adds what only an inspect can
    tell: the last health-check output of an `unhealthy`, and for a `start`, whether
    the container has a healthcheck when the compose file did not say (else None)."""

    event: ContainerEvent
    health_output: str = ""
    has_healthcheck: bool | None = None


@dataclass(frozen=True)
class ProbeReport:
    token: int  # the StartProbe it answers; a stopped probe's late report is stale
    attempt: Attempt


@dataclass(frozen=True)
class UpDone:
    code: int
    output: str
    at: float


@dataclass(frozen=True)
class Snapshot:
    """`docker inspect` of project containers, taken at `taken_at`. `after_up`: the
    answer to InspectProject, the last word on which services `up` started."""

    taken_at: float
    containers: tuple[ContainerState, ...]
    after_up: bool = False


@dataclass(frozen=True)
class StartDone:
    """A `docker compose up -d --no-deps` of `services` (a StartServices) ended."""

    services: tuple[str, ...]
    code: int
    output: str
    at: float


@dataclass(frozen=True)
class StreamEnded:
    """The event stream broke off: snapshots must come more often."""


Message = EngineEvent | ProbeReport | UpDone | Snapshot | StreamEnded | StartDone


# -- effects out ------------------------------------------------------------------------

@dataclass(frozen=True)
class Say:
    text: str
    debug: bool = False


@dataclass(frozen=True)
class StartProbe:
    """Run `check` (index HEALTHCHECK: the container's own healthcheck) until it
    passes or is stopped, reporting each attempt as ProbeReport(token, ...).
    `container_id` is "" for a service-level check (http, tcp)."""

    token: int
    service: str
    container_id: str
    index: int
    check: Check
    interval: float | None
    deadline: float  # the service's: no attempt needs to run past it
    log_since: float | None = None


@dataclass(frozen=True)
class StopProbe:
    token: int


@dataclass(frozen=True)
class InspectProject:
    """Inspect the project's containers of watched services, but `skip`, and answer
    with Snapshot(after_up=True) even when that fails."""

    skip: frozenset[str]


@dataclass(frozen=True)
class ForgetAddress:
    """The service's container address may have changed (it restarted)."""

    service: str


@dataclass(frozen=True)
class StartServices:
    """Start these services now (their dependencies' conditions hold), and answer with
    StartDone."""

    services: tuple[str, ...]


Effect = Say | StartProbe | StopProbe | InspectProject | ForgetAddress | StartServices


@dataclass(frozen=True)
class ServiceSetup:
    plan: ServicePlan
    checks: tuple[Check, ...]
    timeout: float | None  # its own, counted from its first start (None: the overall)
    interval: float | None  # between probe attempts


class WaitMachine:
    """`staged`: the dependency-aware start. The `UpDone` it gets first is the end of
    `docker compose create`; it then starts each service (StartServices) once every
    `depends_on` condition of it holds, judged by what it watches, and counts `up` as
    done once every service was started or can no longer be."""

    def __init__(self, setups: Iterable[ServiceSetup], *, started: float, timeout: float,
                 fail_fast: bool, run_healthchecks: bool = True,
                 settle: float = RUNNING_SETTLE, staged: bool = False) -> None:
        self.started = started
        self.timeout = timeout
        self.fail_fast = fail_fast
        self.run_healthchecks = run_healthchecks
        self.settle = settle
        self.services: dict[str, ServiceWatch] = {
            s.plan.name: ServiceWatch(s.plan, s.checks, s.timeout, started + timeout,
                                      s.interval)
            for s in setups}
        self.up_done: UpDone | None = None
        self.events_alive = True
        self.staged = staged
        # What `up` (the process the UpDone is the end of) runs: in the staged start,
        # `docker compose create`; its failure is worded as that, not as an `up`.
        self.up_command = "create" if staged else "up"
        self.created: UpDone | None = None  # staged: the end of `docker compose create`
        self.released: dict[str, float] = {}  # staged: service -> when it was started
        self.start_pending: set[str] = set()  # staged: asked to start, not done yet
        self._effects: list[Effect] = []
        self._probes: dict[int, tuple[str, str, int]] = {}  # token -> service, id, index
        self._next_token = 1

    # -- driving ------------------------------------------------------------------------
    def handle(self, message: Message | None, now: float) -> list[Effect]:
        """Take one message (None: only time passed) and what is due by `now`."""
        if isinstance(message, EngineEvent):
            self._on_event(message, now)
        elif isinstance(message, ProbeReport):
            self._on_probe(message, now)
        elif isinstance(message, Snapshot):
            self._on_snapshot(message, now)
        elif isinstance(message, UpDone):
            if self.staged:
                self._on_created(message)
            else:
                self._on_up_done(message)
        elif isinstance(message, StartDone):
            self._on_start_done(message, now)
        elif isinstance(message, StreamEnded):
            self.events_alive = False
        self._check_deadlines(now)
        if self.staged and self.created is not None and self.created.code == 0:
            self._release(now)
        return self._take_effects()

    def finish(self, now: float) -> list[Effect]:
        """The wait is over: judge what is left and word why the rest is not ready.
        Every probe still running is stopped."""
        self._give_verdicts(due_by=None, now=now)  # the report must not leave an exit unjudged
        another_failed = any(s.failure for s in self.services.values())
        for service in self.services.values():
            # Ready only by running, but not for long enough: the wait ended first. Where
            # the run is red anyway and the service had no setback, it keeps its mark.
            if service.ready_at is not None and service.failure is None and any(
                    now < deadline for deadline in self._settle_deadline(service)) and (
                    service.problem or not another_failed):
                service.ready_at = None
        self._check_deadlines(now)  # the overall deadline may have ended the wait
        for service in self.services.values():
            if not service.settled:
                service.pending = self.pending_reason(service, now)
            self._stop_probes(service)
        return self._take_effects()

    def finished(self, now: float) -> bool:
        if now >= self.started + self.timeout:
            return True
        watched = self.services.values()
        failed = any(s.failure for s in watched)
        if failed and self.fail_fast:
            return True
        if not all(s.settled for s in watched) or self._awaiting_verdict():
            return False
        if any(now < deadline for deadline in self.settle_deadlines()):
            return False
        return self.up_done is not None or failed

    def wake_at(self, now: float) -> float:
        """When the machine next has something to do if no message comes first."""
        return min([s.deadline for s in self.services.values() if not s.settled]
                   + [d for d in self.settle_deadlines() if d > now]
                   + [c.verdict_due for _, c in self._awaiting_verdict() if c.verdict_due]
                   + [self.started + self.timeout])

    def settle_deadlines(self) -> list[float]:
        """A service that is ready only because its containers run (no healthcheck or
        check that says more) must have run `settle` seconds before the wait ends: a
        crash loop is `running` too, for a moment, between its restarts, and a one-shot
        that fails soon after it started must fail the run."""
        return [d for service in self.services.values() for d in self._settle_deadline(service)]

    def _settle_deadline(self, service: ServiceWatch) -> list[float]:
        running = [c.started_at or self.started for c in service.containers.values()
                   if c.running]
        if service.ready_at is None or service.failure is not None or not running or \
                not verdicts.ready_only_by_running(service):
            return []
        return [max(running) + self.settle]

    def pending_reason(self, service: ServiceWatch, now: float) -> str:
        starting = "" if self.up_done is not None else (
            "docker compose create" if self.staged and self.created is None
            else "docker compose up")
        return verdicts.pending_reason(service, now=now, started=self.started,
                                       starting=starting, settle=self.settle)

    def known_containers(self) -> frozenset[str]:
        """Containers that events have told of as started."""
        return frozenset(c.id for s in self.services.values()
                         for c in s.containers.values() if c.starts)

    def _take_effects(self) -> list[Effect]:
        effects, self._effects = self._effects, []
        return effects

    def _say(self, text: str) -> None:
        self._effects.append(Say(text))

    def _debug(self, text: str) -> None:
        self._effects.append(Say(text, debug=True))

    # -- compose up -----------------------------------------------------------------------
    def _on_up_done(self, done: UpDone) -> None:
        self.up_done = done
        seconds = done.at - self.started
        if done.code == 0:
            self._debug(f"docker compose up -d finished after {seconds:.2f} s")
        else:
            self._say(f"docker compose {self.up_command} failed after {seconds:.1f} s")
        # Containers that `up` found current were not restarted: no event names them.
        # Those that events already told of as started need no inspecting.
        self._effects.append(InspectProject(self.known_containers()))

    def _fail_never_started(self) -> None:
        assert self.up_done is not None
        up_failed = self.up_done.code != 0
        reason = (f"was not started because docker compose {self.up_command} failed "
                  "(see its error)" if up_failed else "no container was started for it")
        for service in self.services.values():
            never_started = not any(c.starts for c in service.containers.values())
            if never_started and not service.settled:
                # Compose's error names the cause once; each service is not blamed again.
                service.blamed_on_up = up_failed
                self._fail(service, reason)

    # -- the dependency-aware start ---------------------------------------------------------
    def _on_created(self, done: UpDone) -> None:
        self.created = done
        seconds = done.at - self.started
        if done.code != 0:
            # Nothing was started: every service is blamed on the create, which says so.
            self._on_up_done(done)
            return
        self._debug(f"docker compose create finished after {seconds:.2f} s")
        # Containers already running (an earlier `up`) are adopted before releasing.
        self._effects.append(InspectProject(self.known_containers()))

    def _release(self, now: float) -> None:
        """Start every service whose dependencies' conditions now hold; a service whose
        dependency failed is never started."""
        ready = []
        for name, service in self.services.items():
            if name in self.released or service.failure:
                continue
            blocker = self._blocker(service)
            if blocker:
                self._fail(service, f"not started: {blocker}")
                continue
            if all(self._condition_holds(d) for d in self._dependencies(service)):
                ready.append(name)
        if ready:
            for name in ready:
                self.released[name] = now
                self._say(f"{name}: starting{self._because(self.services[name], now)}")
            self.start_pending.update(ready)
            self._effects.append(StartServices(tuple(ready)))
        if not self.start_pending and self.up_done is None and all(
                name in self.released or s.failure for name, s in self.services.items()):
            self.up_done = UpDone(0, "", now)
            self._effects.append(InspectProject(self.known_containers()))

    def _dependencies(self, service: ServiceWatch) -> list[Dependency]:
        # A dependency outside this run's services (`required: false`, not in the
        # project) is skipped, as Compose does.
        return [d for d in service.plan.dependencies if d.service in self.services]

    def _blocker(self, service: ServiceWatch) -> str:
        for dependency in self._dependencies(service):
            other = self.services[dependency.service]
            if other.failure:
                return f"{dependency.service} {other.failure}"
            if dependency.condition == "service_healthy" and any(
                    c.starts and c.has_health is False for c in other.containers.values()):
                # As Compose refuses it: such a condition could never hold.
                return (f"{dependency.service} has no healthcheck, so its condition "
                        "service_healthy can never hold")
        return ""

    def _condition_holds(self, dependency: Dependency) -> bool:
        other = self.services[dependency.service]
        containers = list(other.containers.values())
        if len(containers) < other.plan.replicas or not containers:
            return False
        if dependency.condition == "service_healthy":
            return all(c.healthy for c in containers)
        if dependency.condition == "service_completed_successfully":
            return all(not c.running and c.exit_code == 0 and c.starts for c in containers)
        return all(c.running or c.exit_code is not None for c in containers if c.starts) \
            and any(c.starts for c in containers)

    def _because(self, service: ServiceWatch, now: float) -> str:
        words = {"service_healthy": "passed its healthcheck",
                 "service_completed_successfully": "completed",
                 "service_started": "started"}
        parts = [f"{d.service} {words.get(d.condition, d.condition)}"
                 for d in self._dependencies(service)]
        return f" ({verdicts.seconds(now - self.started)} in; " + ", ".join(parts) + ")" \
            if parts else ""

    def _on_start_done(self, done: StartDone, now: float) -> None:
        self.start_pending.difference_update(done.services)
        if done.code == 0:
            return
        lines = [line.strip() for line in done.output.splitlines() if line.strip()]
        said = lines[-1] if lines else f"exit code {done.code}"
        for name in done.services:
            service = self.services[name]
            if not service.settled:
                self._fail(service, f"could not be started: {said}")

    # -- engine events --------------------------------------------------------------------
    def _on_event(self, message: EngineEvent, now: float) -> None:
        event = message.event
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
            if container.has_health is None and message.has_healthcheck is not None:
                container.has_health = message.has_healthcheck
            self._on_start(service, container, event.time, now)
        elif event.action == "die":
            self._on_die(service, container, event.exit_code, event.time, now)
        elif event.action == "oom":
            container.oom = True
            if container.verdict_due is not None:
                self._give_verdict(service, container, now)
        elif event.action == "health_status" and event.health:
            self._on_health(service, container, event.health, event.time, now,
                            output=message.health_output)
        elif event.action == "destroy":
            container.running = False

    def _track(self, service: ServiceWatch, container_id: str, name: str,
               number: int) -> ContainerWatch:
        container = ContainerWatch(container_id, name, number, service.plan.has_healthcheck)
        service.containers[container_id] = container
        return container

    def _on_start(self, service: ServiceWatch, container: ContainerWatch, at: float,
                  now: float) -> None:
        if container.starts and container.running:
            return  # the same start told twice (by an event and by inspect)
        if container.verdict_due is not None:
            self._give_verdict(service, container, now)
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
            container.has_health = False  # neither the compose file nor the image has one
        if not container.has_health and any(c.kind == "healthy" for c in service.checks):
            self._fail(service, "has no healthcheck, so it cannot become healthy (define one "
                       "in the compose file, or wait for another check)")
            return
        if container.has_health and container.health is None:
            container.health = "starting"
        self._start_probes(service, container)
        self._evaluate(service, at, now)

    def _on_die(self, service: ServiceWatch, container: ContainerWatch, code: int | None,
                at: float, now: float) -> None:
        if not container.running and container.exit_code is not None:
            return  # already known
        container.running = False
        container.exit_code = code if code is not None else -1
        container.died_at = at
        if container.exit_code == OOM_EXIT_CODE and not container.oom:
            container.verdict_due = now + OOM_GRACE
            return
        self._give_verdict(service, container, now)

    def _forget_passes(self, service: ServiceWatch, container: ContainerWatch) -> None:
        """A restarted container starts from nothing: what its last run passed (its
        health, a log line, a command, the service's endpoints) must pass again."""
        container.passed.clear()
        if container.has_health:
            container.health = "starting"  # the engine resets it without an event
        for token in service.probes.values():
            self._stop_probe(token)
        service.probes.clear()
        service.passed.clear()
        service.progress.clear()
        self._effects.append(ForgetAddress(service.name))

    def _give_verdict(self, service: ServiceWatch, container: ContainerWatch,
                      now: float) -> None:
        """Judge how the container's last run ended: a failure, or maybe readiness (a
        one-shot that completed)."""
        container.verdict_due = None
        at = container.died_at or now
        reason = verdicts.exit_reason(service, container,
                                      at - (container.started_at or self.started))
        if reason:
            recoverable = service.plan.restarts_after(
                container.exit_code if container.exit_code is not None else -1)
            self._problem(service, reason, recoverable)
        else:
            self._evaluate(service, at, now)

    def _on_health(self, service: ServiceWatch, container: ContainerWatch, health: str,
                   at: float, now: float, *, output: str = "") -> None:
        container.has_health = True
        previous, container.health = container.health, health
        if health in ("healthy", "unhealthy"):
            # The engine has spoken: StackCI stops running the healthcheck itself.
            token = container.probes.pop(HEALTHCHECK, None)
            if token is not None:
                self._stop_probe(token)
        if health == "unhealthy" and previous != "unhealthy":
            output = " ".join(output.split())[:300]
            lived = verdicts.seconds(at - (container.started_at or self.started))
            self._problem(service, f"became unhealthy after running {lived}"
                          + (f": {output}" if output else ""), recoverable=True)
        else:
            self._evaluate(service, at, now)

    def _on_snapshot(self, snapshot: Snapshot, now: float) -> None:
        """Bring the state in line with `docker inspect`, for containers that no event
        has spoken of since the snapshot was taken."""
        for info in snapshot.containers:
            service = self.services.get(info.service)
            if service is None or service.failure:
                continue
            container = service.containers.get(info.id)
            if container is None:
                # Before `up` (or, staged, `create`) is done, a container may be an old
                # one about to be replaced; after it, every container is current.
                settled_at = self.up_done or self.created
                if settled_at is None or snapshot.taken_at < settled_at.at:
                    continue
                container = self._track(service, info.id, info.name, info.number)
            elif container.last_event >= snapshot.taken_at:
                continue
            self._apply_inspect(service, container, info, now)
        if snapshot.after_up and self.up_done is not None:
            self._fail_never_started()

    def _apply_inspect(self, service: ServiceWatch, container: ContainerWatch,
                       info: ContainerState, now: float) -> None:
        if info.health is not None:
            container.has_health = True
        elif container.has_health is None:
            container.has_health = False
        if info.running and (not container.running or container.starts == 0):
            self._on_start(service, container, info.started_at or now, now)
        if info.health and info.health != container.health and not service.failure:
            self._on_health(service, container, info.health, now, now,
                            output=info.health_output)
        if not info.running and info.exit_code is not None and not service.failure \
                and (container.running or container.exit_code is None):
            container.oom = container.oom or info.oom_killed
            if container.starts == 0:
                container.started_at = info.started_at
            self._on_die(service, container, info.exit_code, info.finished_at or now, now)

    # -- probes ---------------------------------------------------------------------------
    def _start_probes(self, service: ServiceWatch, container: ContainerWatch) -> None:
        for token in container.probes.values():
            self._stop_probe(token)
        container.probes.clear()
        # After a restart, only what the new run logs counts: the log still holds the
        # old run's lines, all from before it ended.
        since = container.died_at + 1e-6 if container.starts > 1 and container.died_at \
            else None
        for index, check in enumerate(service.checks):
            if check.kind in ("exec", "log") and index not in container.passed:
                container.probes[index] = self._start_probe(service, container.id, index,
                                                            check, since)
        if self.run_healthchecks and container.has_health and container.health != "healthy" \
                and any(c.kind in ("healthy", AUTO) for c in service.checks):
            container.probes[HEALTHCHECK] = self._start_probe(service, container.id,
                                                              HEALTHCHECK, Check("healthy"))
        if not service.probes:
            for index, check in enumerate(service.checks):
                if check.kind in ("http", "tcp") and index not in service.passed:
                    service.probes[index] = self._start_probe(service, "", index, check)

    def _start_probe(self, service: ServiceWatch, container_id: str, index: int,
                     check: Check, log_since: float | None = None) -> int:
        token = self._next_token
        self._next_token += 1
        self._probes[token] = (service.name, container_id, index)
        self._effects.append(StartProbe(token, service.name, container_id, index, check,
                                        service.interval, service.deadline, log_since))
        return token

    def _stop_probe(self, token: int) -> None:
        if self._probes.pop(token, None) is not None:
            self._effects.append(StopProbe(token))

    def _stop_probes(self, service: ServiceWatch) -> None:
        for token in service.probes.values():
            self._stop_probe(token)
        service.probes.clear()
        for container in service.containers.values():
            for token in container.probes.values():
                self._stop_probe(token)
            container.probes.clear()

    def _on_probe(self, report: ProbeReport, now: float) -> None:
        source = self._probes.get(report.token)
        if source is None:
            return  # from a probe since stopped (a restart, a verdict)
        service_name, container_id, index = source
        service = self.services[service_name]
        container = service.containers.get(container_id)
        attempt = report.attempt
        if attempt.ok or attempt.final:
            self._probes.pop(report.token)  # its runner stops by itself
            (container.probes if container else service.probes).pop(index, None)
        if index == HEALTHCHECK and attempt.final:
            return  # nothing for StackCI to run: the engine's verdict is awaited
        key = (container_id, index)
        progress = service.progress.get(key)
        if progress and progress.detail == attempt.detail:
            progress.attempts += 1
        else:
            service.progress[key] = Progress(attempt.detail, now,
                                             (progress.attempts + 1) if progress else 1)
        if attempt.ok:
            (container.passed if container else service.passed).add(index)
            self._evaluate(service, now, now)
        elif attempt.final and container is not None:
            # The log ends when the container stops. Its `die` event (maybe not here yet)
            # then says how it ended; once it has, there is nothing more to wait for.
            container.log_ended = True
            if not container.running and container.exit_code is not None \
                    and container.verdict_due is None:
                check = service.checks[index]
                self._problem(service, f"exited with code {container.exit_code} before "
                                       f"/{check.target}/ appeared in its log",
                              recoverable=service.plan.restarts_after(container.exit_code))

    # -- verdicts -------------------------------------------------------------------------
    def _evaluate(self, service: ServiceWatch, trigger: float, now: float) -> None:
        if service.settled or not service.is_ready():
            return
        service.ready_at = now
        service.trigger_time = trigger
        if not verdicts.ready_only_by_running(service):
            service.problem = None  # (a service ready by running is so only once it settled)
        service.ready_detail = verdicts.ready_detail(service)
        self._stop_probes(service)
        settles = ""
        if verdicts.ready_only_by_running(service) and any(
                c.running for c in service.containers.values()):
            settles = (" (ready only by running: no healthcheck or check says more; it has "
                       f"to keep running {verdicts.seconds(self.settle)})")
        self._say(f"{service.name}: {service.ready_detail} after "
                  f"{verdicts.seconds(now - self.started)}{settles}")
        self._debug(f"{service.name}: ready mark {now:.6f}, trigger {trigger:.6f}, "
                    f"latency {(now - trigger) * 1000:.1f} ms")

    def _problem(self, service: ServiceWatch, reason: str, recoverable: bool) -> None:
        if self.fail_fast or not recoverable:
            self._fail(service, reason)
            return
        service.problem = reason
        service.ready_at = None
        self._say(f"{service.name}: {reason}; still waiting (fail-fast is off)")

    def _fail(self, service: ServiceWatch, reason: str) -> None:
        service.failure = reason
        service.ready_at = None
        self._stop_probes(service)
        self._say(f"{service.name}: {reason}")

    def _awaiting_verdict(self) -> list[tuple[ServiceWatch, ContainerWatch]]:
        return [(service, container) for service in self.services.values()
                if not service.failure
                for container in service.containers.values()
                if container.verdict_due is not None]

    def _give_verdicts(self, due_by: float | None, now: float) -> None:
        """Judge the exits waiting for an OOM event: those due by `due_by`, or all."""
        for service, container in self._awaiting_verdict():
            assert container.verdict_due is not None
            if (due_by is None or container.verdict_due <= due_by) and not service.failure:
                self._give_verdict(service, container, now)

    def _check_deadlines(self, now: float) -> None:
        self._give_verdicts(due_by=now, now=now)
        for service in self.services.values():
            if not service.settled and now >= service.deadline:
                self._fail(service, self.pending_reason(service, now))
