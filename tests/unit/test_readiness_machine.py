"""The wait's state machine, driven by hand through its public interface (messages in,
effects out; no engine, no threads, no clock): what counts as ready, as a failure, as a
restart, and what a stale snapshot or a stale probe report may not undo."""

from __future__ import annotations

from typing import Any

import pytest

from stackci.core.engine.containers import ContainerState
from stackci.core.engine.events import ContainerEvent
from stackci.readiness.machine import (
    OOM_GRACE,
    Effect,
    EngineEvent,
    ForgetAddress,
    InspectProject,
    ProbeReport,
    Say,
    ServiceSetup,
    Snapshot,
    StartDone,
    StartProbe,
    StartServices,
    StopProbe,
    UpDone,
    WaitMachine,
)
from stackci.readiness.spec import Check, ServiceWait, parse_service_wait
from stackci.readiness.stack import Dependency, ServicePlan
from stackci.readiness.state import HEALTHCHECK, Attempt

T0 = 1_700_000_000.0


class Run:
    """A machine and everything it asked for so far."""

    def __init__(self, *services: tuple[str, ServiceWait, dict[str, Any]],
                 fail_fast: bool = True, run_healthchecks: bool = True,
                 timeout: float = 60, settle: float = 2.0, staged: bool = False) -> None:
        setups = []
        for name, wait, extra in services:
            plan = ServicePlan(name=name, wait=ServiceWait(),
                               replicas=extra.get("replicas", 1),
                               has_healthcheck=extra.get("health"),
                               restart_policy=extra.get("restart", "no"),
                               depends_on=tuple(extra.get("depends_on", ())),
                               dependencies=tuple(extra.get("dependencies", ())))
            setups.append(ServiceSetup(plan, wait.effective_checks, wait.timeout,
                                       wait.interval))
        self.machine = WaitMachine(setups, started=T0, timeout=timeout, fail_fast=fail_fast,
                                   run_healthchecks=run_healthchecks, settle=settle,
                                   staged=staged)
        self.effects: list[Effect] = []
        self.running: dict[int, StartProbe] = {}

    def send(self, message: Any, at: float) -> list[Effect]:
        effects = self.machine.handle(message, at)
        self.effects += effects
        for effect in effects:
            if isinstance(effect, StartProbe):
                self.running[effect.token] = effect
            elif isinstance(effect, StopProbe):
                self.running.pop(effect.token, None)
        return effects

    def feed(self, *events: ContainerEvent, health_output: str = "") -> None:
        for e in events:
            self.send(EngineEvent(e, health_output=health_output), e.time)

    def probe(self, service: str, index: int, container: str | None = None) -> StartProbe:
        """The running probe of a check (of `service`-1's container by default)."""
        cid = container if container is not None else (
            "" if index >= 0 and not self.machine.services[service].checks[index].per_container
            else f"{service}-1")
        found = [p for p in self.running.values()
                 if p.service == service and p.index == index and p.container_id == cid]
        assert len(found) == 1, (service, index, self.running)
        return found[0]

    def report(self, start: StartProbe, attempt: Attempt, at: float) -> None:
        self.send(ProbeReport(start.token, attempt), at)
        if attempt.ok or attempt.final:
            self.running.pop(start.token, None)  # its runner stops by itself

    @property
    def said(self) -> list[str]:
        return [e.text for e in self.effects if isinstance(e, Say)]

    def ready_at(self, service: str) -> float | None:
        return self.machine.services[service].ready_at

    def failure(self, service: str) -> str | None:
        return self.machine.services[service].failure


def event(action: str, service: str, at: float, number: int = 1, **extra: Any
          ) -> ContainerEvent:
    return ContainerEvent(action=action, container_id=f"{service}-{number}",
                          name=f"p-{service}-{number}", service=service, number=number,
                          time=at, **extra)


def inspected(service: str, *, running: bool = True, health: str | None = None,
              status: str | None = None, exit_code: int = 0) -> ContainerState:
    state: dict[str, Any] = {"Status": status or ("running" if running else "exited"),
                             "Running": running, "ExitCode": exit_code,
                             "StartedAt": "2023-11-14T22:13:20Z"}
    if health:
        state["Health"] = {"Status": health, "Log": []}
    return ContainerState.from_inspect({
        "Id": f"{service}-1", "Name": f"/p-{service}-1",
        "Config": {"Labels": {"com.docker.compose.service": service,
                              "com.docker.compose.container-number": "1"}},
        "State": state})


def test_healthy_marks_ready_at_the_health_event() -> None:
    run = Run(("db", ServiceWait(), {"health": True}))
    run.feed(event("create", "db", T0), event("start", "db", T0 + 0.1))
    assert run.ready_at("db") is None
    run.feed(event("health_status", "db", T0 + 1.0, health="healthy"))
    assert run.ready_at("db") == T0 + 1.0
    assert run.machine.services["db"].trigger_time == T0 + 1.0
    assert "db: healthy after 1.0 s" in run.said
    assert any("latency" in line for line in run.said)


def test_a_one_shot_that_exits_0_is_ready_and_one_that_exits_1_fails() -> None:
    run = Run(("migrate", parse_service_wait("completed", "m"), {}),
              ("worker", ServiceWait(), {"health": False}))
    run.feed(event("start", "migrate", T0), event("die", "migrate", T0 + 0.5, exit_code=0))
    assert run.ready_at("migrate") is not None
    run.feed(event("start", "worker", T0), event("die", "worker", T0 + 2.1, exit_code=1))
    assert run.failure("worker") == "exited with code 1 after running 2.1 s"
    assert run.machine.finished(T0 + 2.1)  # fail fast


def test_exit_0_is_a_failure_for_a_service_that_must_keep_running() -> None:
    run = Run(("api", parse_service_wait("running", "api"), {}))
    run.feed(event("start", "api", T0))
    assert run.ready_at("api") is not None
    run.feed(event("die", "api", T0 + 1, exit_code=0))
    assert run.failure("api") == \
        "exited with code 0 after running 1.0 s, but it has to keep running"


def test_the_wait_ends_once_all_are_ready_and_up_is_done() -> None:
    run = Run(("db", ServiceWait(), {"health": True}))
    run.feed(event("start", "db", T0), event("health_status", "db", T0 + 1, health="healthy"))
    assert not run.machine.finished(T0 + 1)  # `up` may still start more
    effects = run.send(UpDone(0, "", T0 + 1.2), T0 + 1.2)
    assert effects[-1] == InspectProject(frozenset({"db-1"}))
    run.send(Snapshot(T0 + 1.2, (), after_up=True), T0 + 1.2)
    assert run.machine.finished(T0 + 1.2)


def test_a_service_up_never_started_fails_once_up_is_done() -> None:
    run = Run(("db", ServiceWait(), {"health": True}), ("api", ServiceWait(), {}))
    run.feed(event("start", "db", T0))
    run.send(UpDone(1, "Error: pull access denied", T0 + 2), T0 + 2)
    assert run.failure("api") is None  # not before the inspect has answered
    run.send(Snapshot(T0 + 2, (), after_up=True), T0 + 2)
    assert run.failure("api") == \
        "was not started because docker compose up failed (see its error)"
    assert run.machine.services["api"].blamed_on_up
    assert run.failure("db") is None


def test_the_same_start_told_by_an_event_and_a_snapshot_is_not_a_restart() -> None:
    run = Run(("api", parse_service_wait("running", "api"), {}))
    run.feed(event("start", "api", T0 + 0.2))
    run.send(Snapshot(T0 + 5, (inspected("api"),)), T0 + 5)
    assert run.failure("api") is None
    assert run.machine.services["api"].containers["api-1"].starts == 1


def test_a_stale_snapshot_cannot_undo_a_newer_event() -> None:
    run = Run(("db", ServiceWait(), {"health": True}))
    run.feed(event("start", "db", T0), event("health_status", "db", T0 + 2, health="healthy"))
    run.send(Snapshot(T0 + 1, (inspected("db", health="starting"),)), T0 + 3)
    assert run.machine.services["db"].containers["db-1"].health == "healthy"
    assert run.failure("db") is None


def test_a_container_up_left_as_it_was_is_adopted_from_the_snapshot_after_up() -> None:
    run = Run(("db", ServiceWait(), {"health": True}))
    run.send(UpDone(0, "", T0 + 0.5), T0 + 0.5)
    run.send(Snapshot(T0 + 0.5, (inspected("db", health="healthy"),), after_up=True), T0 + 0.5)
    assert run.ready_at("db") == T0 + 0.5


def test_with_fail_fast_off_a_restart_is_a_setback_not_a_verdict() -> None:
    run = Run(("api", parse_service_wait("healthy", "api"),
               {"health": True, "restart": "always"}), fail_fast=False)
    run.feed(event("start", "api", T0), event("die", "api", T0 + 1, exit_code=2),
             event("start", "api", T0 + 1.5))
    api = run.machine.services["api"]
    assert api.failure is None
    assert api.problem == "restarted (restart 1) after it exited with code 2"
    assert any("still waiting (fail-fast is off)" in line for line in run.said)
    reason = run.machine.pending_reason(api, T0 + 10)
    assert reason.startswith("not healthy after 10 s (health: starting)")
    assert reason.endswith("; earlier it restarted (restart 1) after it exited with code 2")


def test_with_fail_fast_a_restart_after_exit_0_fails() -> None:
    run = Run(("job", ServiceWait(), {"health": False, "restart": "always"}))
    run.feed(event("start", "job", T0), event("die", "job", T0 + 1, exit_code=0),
             event("start", "job", T0 + 1.2))
    assert run.failure("job") == "restarted (restart 1) after it exited with code 0"


def test_unhealthy_fails_with_the_health_check_output() -> None:
    run = Run(("db", ServiceWait(), {"health": True}))
    run.feed(event("start", "db", T0))
    run.feed(event("health_status", "db", T0 + 3, health="unhealthy"),
             health_output="pg: no\n  response\n")
    assert run.failure("db") == "became unhealthy after running 3.0 s: pg: no response"


def test_oom_kills_are_named() -> None:
    run = Run(("big", ServiceWait(), {"health": False}))
    run.feed(event("start", "big", T0), event("oom", "big", T0 + 1),
             event("die", "big", T0 + 1, exit_code=137))
    assert run.failure("big") == "was killed for running out of memory after running 1.0 s"


def test_an_oom_event_after_the_die_still_names_the_oom_kill() -> None:
    # The engine sends the two from separate paths; `die` sometimes comes first.
    run = Run(("big", ServiceWait(), {"health": False}))
    run.feed(event("start", "big", T0), event("die", "big", T0 + 1, exit_code=137))
    assert run.failure("big") is None  # the verdict waits for a late OOM event
    assert not run.machine.finished(T0 + 1)
    assert run.machine.wake_at(T0 + 1) == pytest.approx(T0 + 1 + OOM_GRACE)
    run.feed(event("oom", "big", T0 + 1.01))
    assert run.failure("big") == "was killed for running out of memory after running 1.0 s"


def test_an_exit_137_without_an_oom_event_is_judged_after_the_grace() -> None:
    run = Run(("big", ServiceWait(), {"health": False}))
    run.feed(event("start", "big", T0), event("die", "big", T0 + 1, exit_code=137))
    run.send(None, T0 + 1 + OOM_GRACE / 2)
    assert run.failure("big") is None
    run.send(None, T0 + 1 + OOM_GRACE + 0.01)
    assert run.failure("big") == "exited with code 137 after running 1.0 s"


def test_a_restart_forgets_what_the_last_run_passed() -> None:
    run = Run(("db", ServiceWait(), {"health": True, "restart": "always"}),
              ("worker", parse_service_wait({"log": "consumer started"}, "worker"),
               {"health": False, "restart": "always"}),
              fail_fast=False)
    run.feed(event("start", "db", T0), event("health_status", "db", T0 + 1, health="healthy"),
             event("start", "worker", T0))
    first = run.probe("worker", 0)
    assert first.log_since is None  # the first run: its whole log counts
    run.report(first, Attempt(True, "logged 'consumer started'"), T0 + 1)
    assert run.ready_at("db") is not None
    assert run.ready_at("worker") is not None
    run.feed(event("die", "db", T0 + 2, exit_code=1), event("start", "db", T0 + 2.5),
             event("die", "worker", T0 + 2, exit_code=1), event("start", "worker", T0 + 2.5))
    # The engine resets health to `starting` without an event; the log line was the
    # last run's. Neither may count now.
    assert run.ready_at("db") is None
    assert run.machine.services["db"].containers["db-1"].health == "starting"
    assert run.ready_at("worker") is None
    assert ForgetAddress("worker") in run.effects
    # A report of the last run's probe, still on its way, is stale.
    run.send(ProbeReport(first.token, Attempt(True, "logged 'consumer started'")), T0 + 2.6)
    assert run.ready_at("worker") is None
    # The new run's own log check starts from the moment the last run ended.
    second = run.probe("worker", 0)
    assert second.token != first.token
    assert second.log_since is not None
    assert second.log_since > T0 + 2
    assert "worker: restarted (restart 1) after it exited with code 1; still waiting " \
        "(fail-fast is off)" in run.said
    run.feed(event("health_status", "db", T0 + 3, health="healthy"))
    assert run.ready_at("db") is not None


def test_healthy_without_a_healthcheck_fails_at_once() -> None:
    run = Run(("web", parse_service_wait("healthy", "web"), {"health": False}))
    run.feed(event("start", "web", T0))
    assert (run.failure("web") or "").startswith("has no healthcheck")


def test_the_image_healthcheck_the_loop_found_counts() -> None:
    run = Run(("web", ServiceWait(), {"health": None}))
    run.send(EngineEvent(event("start", "web", T0), has_healthcheck=True), T0)
    assert run.ready_at("web") is None  # it has to become healthy, not only run
    assert run.probe("web", HEALTHCHECK).check == Check("healthy")


def test_every_replica_must_be_ready() -> None:
    run = Run(("web", parse_service_wait("running", "web"), {"replicas": 2}))
    run.feed(event("start", "web", T0, number=1))
    assert run.ready_at("web") is None
    run.feed(event("start", "web", T0 + 0.1, number=2))
    assert run.ready_at("web") is not None


def test_events_of_containers_this_run_did_not_start_are_ignored() -> None:
    # `up` replacing an old container: the old one dies, untracked, and fails nothing.
    run = Run(("api", parse_service_wait("running", "api"), {}))
    run.feed(event("die", "api", T0, number=7, exit_code=137))
    assert run.failure("api") is None
    assert run.machine.services["api"].containers == {}


@pytest.mark.parametrize(("check", "answer", "words"), [
    (Check("http", "http://api:8000/health"), "answered 503",
     "http://api:8000/health answered 503 for 4.0 s"),
    (Check("tcp", "6379"), "refused the connection", "port 6379 refused the connection for 4.0 s"),
    (Check("exec", "pg_isready", argv=("pg_isready",)), "exited 2: no response",
     "`pg_isready` exited 2: no response for 4.0 s"),
])
def test_active_checks_report_their_last_answer_and_for_how_long(
        check: Check, answer: str, words: str) -> None:
    run = Run(("api", ServiceWait((check,)), {"health": False}))
    run.feed(event("start", "api", T0))
    probe = run.probe("api", 0)
    run.report(probe, Attempt(False, "could not be reached"), T0 + 1)
    run.report(probe, Attempt(False, answer), T0 + 2)
    run.report(probe, Attempt(False, answer), T0 + 3)
    assert run.machine.pending_reason(run.machine.services["api"], T0 + 6) == words
    run.report(probe, Attempt(True, "answered 200"), T0 + 7)
    assert run.ready_at("api") == T0 + 7
    assert run.running == {}


def test_an_active_check_never_answered_says_so() -> None:
    run = Run(("api", ServiceWait((Check("tcp", "6379"),)), {"health": False}))
    run.feed(event("start", "api", T0))
    assert run.machine.pending_reason(run.machine.services["api"], T0 + 3) == \
        "port 6379 did not answer its first attempt within 3.0 s"


def test_a_service_times_out_with_its_pending_reason() -> None:
    run = Run(("db", ServiceWait(), {"health": True}), timeout=5)
    run.feed(event("start", "db", T0))
    assert run.machine.wake_at(T0 + 1) == T0 + 5
    run.send(None, T0 + 5)
    assert run.failure("db") == "not healthy after 5.0 s (health: starting)"


def test_finish_stops_every_probe_and_words_what_is_pending() -> None:
    run = Run(("db", ServiceWait(), {"health": True}),
              ("api", ServiceWait((Check("tcp", "80"),)), {"health": False}),
              fail_fast=True)
    run.feed(event("start", "db", T0), event("start", "api", T0),
             event("die", "db", T0 + 1, exit_code=3))
    assert run.machine.finished(T0 + 1)
    run.effects += run.machine.finish(T0 + 1)
    stopped = {e.token for e in run.effects if isinstance(e, StopProbe)}
    started = {e.token for e in run.effects if isinstance(e, StartProbe)}
    assert started == stopped
    assert run.machine.services["api"].pending == \
        "port 80 did not answer its first attempt within 1.0 s"


# -- the healthcheck, run by StackCI between the engine's runs of it ------------------

def test_a_healthcheck_that_passed_when_stackci_ran_it_marks_ready_before_the_engine() -> None:
    run = Run(("db", ServiceWait(), {"health": True}))
    run.feed(event("start", "db", T0 + 0.1))
    db = run.machine.services["db"]
    probe = run.probe("db", HEALTHCHECK)
    run.report(probe, Attempt(False, "exited 1: no"), T0 + 0.5)
    assert db.ready_at is None
    assert run.machine.pending_reason(db, T0 + 1) == (
        "not healthy after 1.0 s (health: starting; its healthcheck, run by StackCI, "
        "exited 1: no)")
    run.report(probe, Attempt(True, "exited 0"), T0 + 0.9)
    assert db.ready_at is not None
    assert "db: healthcheck passed after 0.9 s" in run.said


def test_once_the_engine_says_unhealthy_a_late_pass_does_not_count() -> None:
    run = Run(("db", ServiceWait(), {"health": True}), fail_fast=False)
    run.feed(event("start", "db", T0))
    probe = run.probe("db", HEALTHCHECK)
    run.feed(event("health_status", "db", T0 + 1, health="unhealthy"))
    assert StopProbe(probe.token) in run.effects  # the engine has spoken
    # A pass that was on its way when the engine spoke.
    run.send(ProbeReport(probe.token, Attempt(True, "exited 0")), T0 + 1.1)
    assert run.ready_at("db") is None


def test_a_snapshot_tells_what_the_events_missed() -> None:
    run = Run(("db", ServiceWait(), {"health": True}))
    run.feed(event("start", "db", T0))
    run.send(Snapshot(T0 + 1, (inspected("db", health="healthy"),)), T0 + 1)
    assert run.ready_at("db") is not None


def test_a_restart_forgets_a_healthcheck_pass() -> None:
    run = Run(("db", ServiceWait(), {"health": True, "restart": "always"}), fail_fast=False)
    run.feed(event("start", "db", T0))
    first = run.probe("db", HEALTHCHECK)
    run.report(first, Attempt(True, "exited 0"), T0 + 1)
    assert run.ready_at("db") is not None
    run.feed(event("die", "db", T0 + 2, exit_code=1), event("start", "db", T0 + 2.5))
    assert run.ready_at("db") is None
    second = run.probe("db", HEALTHCHECK)
    assert second.token != first.token
    run.send(ProbeReport(first.token, Attempt(True, "exited 0")), T0 + 2.6)
    assert run.ready_at("db") is None  # the last run's pass is stale


def test_with_run_healthchecks_off_only_the_engine_counts() -> None:
    run = Run(("db", ServiceWait(), {"health": True}), run_healthchecks=False)
    run.feed(event("start", "db", T0))
    assert run.running == {}


# -- the settle rule, one-shots, OOM kills of a child, first attempts ---------------------

def done_up(run: Run, at: float) -> None:
    run.send(UpDone(0, "", at), at)
    run.send(Snapshot(at, (), after_up=True), at)


def test_a_service_ready_only_by_running_must_run_the_settle_time() -> None:
    run = Run(("app", ServiceWait(), {"health": False}), settle=2.0)
    run.feed(event("start", "app", T0 + 0.5))
    done_up(run, T0 + 0.6)
    assert run.ready_at("app") == T0 + 0.5
    assert any(line.startswith("app: running after 0.5 s (ready only by running")
               for line in run.said)
    assert not run.machine.finished(T0 + 2.4)
    assert run.machine.wake_at(T0 + 2.4) == T0 + 2.5
    assert run.machine.finished(T0 + 2.5)


def test_a_one_shot_that_fails_within_the_settle_time_fails() -> None:
    run = Run(("migrate", ServiceWait(), {"health": False}))
    run.feed(event("start", "migrate", T0))
    done_up(run, T0 + 0.1)
    assert not run.machine.finished(T0 + 1.4)
    run.feed(event("die", "migrate", T0 + 1.5, exit_code=3))
    assert run.failure("migrate") == "exited with code 3 after running 1.5 s"


def test_checks_that_say_more_than_running_are_not_delayed() -> None:
    run = Run(("api", ServiceWait((Check("tcp", "80"),)), {"health": False}))
    run.feed(event("start", "api", T0))
    done_up(run, T0 + 0.1)
    run.report(run.probe("api", 0), Attempt(True, "accepted a connection"), T0 + 0.3)
    assert run.machine.finished(T0 + 0.3)


def test_a_crash_loop_without_fail_fast_is_not_ready_when_the_time_is_up() -> None:
    run = Run(("crashy", ServiceWait(), {"health": False, "restart": "always"}),
              fail_fast=False, timeout=8)
    run.feed(event("start", "crashy", T0), event("die", "crashy", T0 + 0.5, exit_code=1))
    done_up(run, T0 + 0.6)
    run.feed(event("start", "crashy", T0 + 7.7))  # caught running at the deadline
    assert run.machine.finished(T0 + 8)
    run.machine.finish(T0 + 8)
    assert run.ready_at("crashy") is None
    assert run.failure("crashy") == (
        "had run only 0.3 s when the wait ended; ready only by running, it has to keep "
        "running 2.0 s; earlier it restarted (restart 1) after it exited with code 1")


def test_an_oom_kill_of_a_process_inside_is_told_from_the_container_s() -> None:
    run = Run(("job", ServiceWait(), {"health": False}))
    run.feed(event("start", "job", T0), event("oom", "job", T0 + 0.5),
             event("die", "job", T0 + 1, exit_code=0))
    assert run.failure("job") == ("exited with code 0 after running 1.0 s; a process in it "
                                  "was killed for running out of memory")


def test_an_exec_check_whose_first_attempt_still_runs_says_so() -> None:
    check = Check("exec", "sleep 12; true", argv=("sh", "-c", "sleep 12; true"))
    run = Run(("hang", ServiceWait((check,), timeout=3), {"health": False}))
    run.feed(event("start", "hang", T0))
    probe = run.probe("hang", 0)
    assert probe.deadline == T0 + 3  # an attempt may run until the service's deadline
    run.send(None, T0 + 3)
    assert run.failure("hang") == "`sleep 12; true` did not finish its first attempt within 3.0 s"
    assert StopProbe(probe.token) in run.effects


def test_a_healthcheck_service_created_but_not_started_is_not_health_none() -> None:
    run = Run(("db", ServiceWait(), {"health": True}),
              ("api", ServiceWait(), {"health": True, "depends_on": ["db"]}), timeout=5)
    run.feed(event("start", "db", T0), event("create", "api", T0))
    run.send(None, T0 + 5)
    assert run.failure("api") == ("not healthy after 5.0 s (created, not started yet: it "
                                  "waits for db)")


# -- the dependency-aware start ----------------------------------------------------------

def staged_chain(**extra: Any) -> Run:
    healthy = Dependency("db", "service_healthy")
    return Run(("db", ServiceWait(), {"health": True}),
               ("api", ServiceWait(), {"health": False, "depends_on": ["db"],
                                       "dependencies": [healthy]}),
               staged=True, **extra)


def started(run: Run) -> list[tuple[str, ...]]:
    return [e.services for e in run.effects if isinstance(e, StartServices)]


def test_each_service_starts_once_its_dependency_passed_its_healthcheck() -> None:
    run = staged_chain()
    run.feed(event("create", "db", T0), event("create", "api", T0))
    run.send(UpDone(0, "", T0 + 0.5), T0 + 0.5)  # `docker compose create` is done
    run.send(Snapshot(T0 + 0.5, (), after_up=True), T0 + 0.5)
    assert started(run) == [("db",)]
    run.send(StartDone(("db",), 0, "", T0 + 1), T0 + 1)
    run.feed(event("start", "db", T0 + 1))
    assert started(run) == [("db",)]  # api waits: db is not healthy yet
    run.report(run.probe("db", HEALTHCHECK), Attempt(True, "exited 0"), T0 + 1.5)
    assert started(run) == [("db",), ("api",)]  # released by StackCI's own run of it
    assert any(line.startswith("api: starting (1.5 s in; db passed its healthcheck)")
               for line in run.said)
    assert run.machine.up_done is None  # api's start is still on its way
    run.send(StartDone(("api",), 0, "", T0 + 2), T0 + 2)
    assert run.machine.up_done is not None


def test_a_dependency_that_failed_means_its_dependent_never_starts() -> None:
    run = staged_chain()
    run.send(UpDone(0, "", T0), T0)
    run.send(StartDone(("db",), 0, "", T0 + 0.5), T0 + 0.5)
    run.feed(event("start", "db", T0 + 0.5), event("die", "db", T0 + 1, exit_code=3))
    assert run.failure("api") == "not started: db exited with code 3 after running 0.5 s"
    assert started(run) == [("db",)]


def test_a_start_that_compose_refused_fails_those_services() -> None:
    run = staged_chain()
    run.send(UpDone(0, "", T0), T0)
    run.send(StartDone(("db",), 1, "Error: port is already allocated", T0 + 0.5), T0 + 0.5)
    assert run.failure("db") == "could not be started: Error: port is already allocated"
    assert run.failure("api") == "not started: db could not be started: Error: port is " \
        "already allocated"


def test_a_failed_create_blames_every_service_on_it() -> None:
    run = staged_chain()
    effects = run.send(UpDone(1, "Error: No such image: x", T0 + 1), T0 + 1)
    assert [e.text for e in effects if isinstance(e, Say)] == [
        "docker compose create failed after 1.0 s"]  # the create, once; no `up` failed
    run.send(Snapshot(T0 + 1, (), after_up=True), T0 + 1)
    assert started(run) == []
    assert run.failure("db") == \
        "was not started because docker compose create failed (see its error)"
    assert run.machine.services["db"].blamed_on_up


def test_a_create_still_running_is_named_as_such() -> None:
    run = staged_chain()
    assert run.machine.pending_reason(run.machine.services["db"], T0 + 3) == \
        "no container was started within 3.0 s (docker compose create is still running)"


def test_a_healthy_condition_on_a_service_without_healthcheck_blocks_at_once() -> None:
    run = Run(("db", ServiceWait(), {"health": False}),
              ("api", ServiceWait(), {"health": False, "depends_on": ["db"],
                                      "dependencies": [Dependency("db", "service_healthy")]}),
              staged=True)
    run.send(UpDone(0, "", T0), T0)
    run.send(StartDone(("db",), 0, "", T0 + 0.5), T0 + 0.5)
    run.feed(event("start", "db", T0 + 0.5))
    assert run.failure("api") == ("not started: db has no healthcheck, so its condition "
                                  "service_healthy can never hold")
