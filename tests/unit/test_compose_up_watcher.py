"""The watcher's verdicts, fed engine events and inspect snapshots by hand (no engine):
what counts as ready, as a failure, as a restart, and what a stale snapshot may not undo."""

from __future__ import annotations

import subprocess
import threading
import time
from typing import Any

import pytest

from stackci.core.engine.containers import ContainerState
from stackci.core.engine.events import ContainerEvent
from stackci.readiness.probes import (
    DOCKER_DEFAULT_HEALTH_SECONDS,
    Attempt,
    HealthcheckProbe,
    ProbeRunner,
    RunBudget,
    healthcheck_plan,
)
from stackci.readiness.spec import Check, ServiceWait, parse_service_wait
from stackci.readiness.stack import ServicePlan
from stackci.readiness.watcher import (
    HEALTHCHECK,
    OOM_GRACE,
    ContainerWatch,
    ServiceWatch,
    StackWatcher,
    _ProbeReport,
    _Snapshot,
)


class FakeApi:
    def __init__(self) -> None:
        self.health_output = ""

    def logs(self, container_id: str, **_: Any) -> list[bytes]:
        return []  # a log that ends at once: a log check's runner stops by itself

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        return {"Id": container_id, "Config": {"Healthcheck": {}},
                "State": {"Health": {"Status": "unhealthy", "Log": [
                    {"ExitCode": 1, "Output": self.health_output}]}}}


class FakeClient:
    def __init__(self) -> None:
        self.api = FakeApi()


def watcher(*services: tuple[str, ServiceWait, dict[str, Any]], fail_fast: bool = True,
            run_healthchecks: bool = True) -> tuple[StackWatcher, list[str]]:
    said: list[str] = []
    plans = []
    for name, wait, extra in services:
        plan = ServicePlan(name=name, wait=ServiceWait(), replicas=extra.get("replicas", 1),
                           has_healthcheck=extra.get("health"),
                           restart_policy=extra.get("restart", "no"))
        plans.append((plan, wait.effective_checks, wait.timeout, wait.interval))
    w = StackWatcher(client=FakeClient(), streams=FakeClient(), project="p", plans=plans,
                     timeout=60, fail_fast=fail_fast, say=said.append, debug=said.append,
                     run_healthchecks=run_healthchecks)
    w.started = time.time()
    for plan, checks, own_timeout, interval in plans:
        w.services[plan.name] = ServiceWatch(plan, checks, own_timeout, w.started + 60,
                                             interval)
    return w, said


def idle_runner() -> ProbeRunner:
    """A runner that is never started: reports are fed by hand."""
    class Idle:
        spacing = None

        def attempt(self) -> Attempt:
            return Attempt(False, "idle")

        def close(self) -> None:
            pass

    return ProbeRunner(Idle(), None, lambda _: None)


def event(action: str, service: str, at: float, number: int = 1, **extra: Any
          ) -> ContainerEvent:
    return ContainerEvent(action=action, container_id=f"{service}-{number}",
                          name=f"p-{service}-{number}", service=service, number=number,
                          time=at, **extra)


def feed(w: StackWatcher, *events: ContainerEvent) -> None:
    for e in events:
        w._handle(e)


def test_healthy_marks_ready_at_the_health_event() -> None:
    w, said = watcher(("db", ServiceWait(), {"health": True}))
    t = w.started
    feed(w, event("create", "db", t), event("start", "db", t + 0.1))
    assert w.services["db"].ready_at is None
    feed(w, event("health_status", "db", t + 1.0, health="healthy"))
    db = w.services["db"]
    assert db.ready_at is not None
    assert db.trigger_time == t + 1.0
    assert any(line.startswith("db: healthy after ") for line in said)
    assert any("latency" in line for line in said)


def test_a_one_shot_that_exits_0_is_ready_and_one_that_exits_1_fails() -> None:
    w, _ = watcher(("migrate", parse_service_wait("completed", "m"), {}),
                   ("worker", ServiceWait(), {"health": False}))
    t = w.started
    feed(w, event("start", "migrate", t), event("die", "migrate", t + 0.5, exit_code=0))
    assert w.services["migrate"].ready_at is not None
    feed(w, event("start", "worker", t), event("die", "worker", t + 2.1, exit_code=1))
    assert w.services["worker"].failure == "exited with code 1 after 2.1 s"


def test_exit_0_is_a_failure_for_a_service_that_must_keep_running() -> None:
    w, _ = watcher(("api", parse_service_wait("running", "api"), {}))
    t = w.started
    feed(w, event("start", "api", t))
    assert w.services["api"].ready_at is not None
    feed(w, event("die", "api", t + 1, exit_code=0))
    assert w.services["api"].failure == \
        "exited with code 0 after 1.0 s, but it has to keep running"


def test_the_same_start_told_by_an_event_and_a_snapshot_is_not_a_restart() -> None:
    w, _ = watcher(("api", parse_service_wait("running", "api"), {}))
    t = w.started
    feed(w, event("start", "api", t + 0.2))
    w._up_done = None
    info = ContainerState.from_inspect({
        "Id": "api-1", "Name": "/p-api-1",
        "Config": {"Labels": {"com.docker.compose.service": "api"}},
        "State": {"Status": "running", "Running": True, "StartedAt": "2020-01-01T00:00:00Z"}})
    w._on_snapshot(_Snapshot(t + 5, [info]))
    assert w.services["api"].failure is None
    assert w.services["api"].containers["api-1"].starts == 1


def test_a_stale_snapshot_cannot_undo_a_newer_event() -> None:
    w, _ = watcher(("db", ServiceWait(), {"health": True}))
    t = w.started
    feed(w, event("start", "db", t), event("health_status", "db", t + 2, health="healthy"))
    stale = ContainerState.from_inspect({
        "Id": "db-1", "Config": {"Labels": {"com.docker.compose.service": "db"}},
        "State": {"Running": True, "Health": {"Status": "starting"}}})
    w._on_snapshot(_Snapshot(t + 1, [stale]))  # taken before the health event
    assert w.services["db"].containers["db-1"].health == "healthy"
    assert w.services["db"].failure is None


def test_with_fail_fast_off_a_restart_is_a_setback_not_a_verdict() -> None:
    w, said = watcher(("api", parse_service_wait("healthy", "api"),
                       {"health": True, "restart": "always"}), fail_fast=False)
    t = w.started
    feed(w, event("start", "api", t), event("die", "api", t + 1, exit_code=2),
         event("start", "api", t + 1.5))
    api = w.services["api"]
    assert api.failure is None
    assert api.problem == "restarted (restart 1) after it exited with code 2"
    assert any("still waiting (fail-fast is off)" in line for line in said)
    reason = w.pending_reason(api, t + 10)
    assert reason.startswith("not healthy after 10 s (health: starting)")
    assert reason.endswith("; earlier it restarted (restart 1) after it exited with code 2")


def test_with_fail_fast_a_restart_after_exit_0_fails() -> None:
    w, _ = watcher(("job", ServiceWait(), {"health": False, "restart": "always"}))
    t = w.started
    feed(w, event("start", "job", t), event("die", "job", t + 1, exit_code=0),
         event("start", "job", t + 1.2))
    assert w.services["job"].failure == "restarted (restart 1) after it exited with code 0"


def test_unhealthy_fails_with_the_health_check_output() -> None:
    w, _ = watcher(("db", ServiceWait(), {"health": True}))
    w.client.api.health_output = "pg: no response\n"  # type: ignore[attr-defined]
    t = w.started
    feed(w, event("start", "db", t), event("health_status", "db", t + 3, health="unhealthy"))
    assert w.services["db"].failure == "became unhealthy after 3.0 s: pg: no response"


def test_oom_kills_are_named() -> None:
    w, _ = watcher(("big", ServiceWait(), {"health": False}))
    t = w.started
    feed(w, event("start", "big", t), event("oom", "big", t + 1),
         event("die", "big", t + 1, exit_code=137))
    assert w.services["big"].failure == "was killed for running out of memory after 1.0 s"


def test_an_oom_event_after_the_die_still_names_the_oom_kill() -> None:
    # The engine sends the two from separate paths; `die` sometimes comes first.
    w, _ = watcher(("big", ServiceWait(), {"health": False}))
    t = w.started
    feed(w, event("start", "big", t), event("die", "big", t + 1, exit_code=137))
    assert w.services["big"].failure is None  # the verdict waits for a late OOM event
    assert not w._finished()
    feed(w, event("oom", "big", t + 1.01))
    assert w.services["big"].failure == "was killed for running out of memory after 1.0 s"


def test_an_exit_137_without_an_oom_event_is_judged_after_the_grace() -> None:
    w, _ = watcher(("big", ServiceWait(), {"health": False}))
    t = w.started
    feed(w, event("start", "big", t), event("die", "big", t + 1, exit_code=137))
    w._check_deadlines(time.time())
    assert w.services["big"].failure is None
    w._check_deadlines(time.time() + OOM_GRACE + 0.01)
    assert w.services["big"].failure == "exited with code 137 after 1.0 s"


def test_a_restart_forgets_what_the_last_run_passed() -> None:
    w, said = watcher(("db", ServiceWait(), {"health": True, "restart": "always"}),
                      ("worker", parse_service_wait({"log": "consumer started"}, "worker"),
                       {"health": False, "restart": "always"}),
                      fail_fast=False)
    t = w.started
    feed(w, event("start", "db", t), event("health_status", "db", t + 1, health="healthy"),
         event("start", "worker", t))
    worker = w.services["worker"]
    first_runner = worker.containers["worker-1"].probes[0]
    w._handle(_ProbeReport("worker", "worker-1", 0, Attempt(True, "logged 'consumer started'"),
                           t + 1, first_runner))
    assert w.services["db"].ready_at is not None
    assert worker.ready_at is not None
    feed(w, event("die", "db", t + 2, exit_code=1), event("start", "db", t + 2.5),
         event("die", "worker", t + 2, exit_code=1), event("start", "worker", t + 2.5))
    # The engine resets health to `starting` without an event; the log line was the
    # last run's. Neither may count now.
    assert w.services["db"].ready_at is None
    assert w.services["db"].containers["db-1"].health == "starting"
    assert worker.ready_at is None
    assert worker.containers["worker-1"].passed == set()
    # A report of the last run's runner, still on its way, is stale.
    w._handle(_ProbeReport("worker", "worker-1", 0, Attempt(True, "logged 'consumer started'"),
                           t + 2.6, first_runner))
    assert worker.ready_at is None
    # The new run's own log check starts from the moment the last run ended.
    assert worker.containers["worker-1"].probes[0] is not first_runner
    assert worker.containers["worker-1"].probes[0].probe._since > t + 2  # type: ignore[attr-defined]
    assert "worker: restarted (restart 1) after it exited with code 1; still waiting " \
        "(fail-fast is off)" in said
    feed(w, event("health_status", "db", t + 3, health="healthy"))
    assert w.services["db"].ready_at is not None


def test_healthy_without_a_healthcheck_fails_at_once() -> None:
    w, _ = watcher(("web", parse_service_wait("healthy", "web"), {"health": False}))
    feed(w, event("start", "web", w.started))
    assert (w.services["web"].failure or "").startswith("has no healthcheck")


def test_every_replica_must_be_ready() -> None:
    w, _ = watcher(("web", parse_service_wait("running", "web"), {"replicas": 2}))
    t = w.started
    feed(w, event("start", "web", t, number=1))
    assert w.services["web"].ready_at is None
    feed(w, event("start", "web", t + 0.1, number=2))
    assert w.services["web"].ready_at is not None


def test_events_of_containers_this_run_did_not_start_are_ignored() -> None:
    # `up` replacing an old container: the old one dies, untracked, and fails nothing.
    w, _ = watcher(("api", parse_service_wait("running", "api"), {}))
    feed(w, event("die", "api", w.started, number=7, exit_code=137))
    assert w.services["api"].failure is None
    assert w.services["api"].containers == {}


@pytest.mark.parametrize(("check", "answer", "words"), [
    (Check("http", "http://api:8000/health"), "answered 503",
     "http://api:8000/health answered 503 for 4.0 s"),
    (Check("tcp", "6379"), "refused the connection", "port 6379 refused the connection for 4.0 s"),
    (Check("exec", "pg_isready", argv=("pg_isready",)), "exited 2: no response",
     "`pg_isready` exited 2: no response for 4.0 s"),
])
def test_active_checks_report_their_last_answer_and_for_how_long(
        check: Check, answer: str, words: str) -> None:
    w, _ = watcher(("api", ServiceWait((check,)), {}))
    t = w.started
    container = ContainerWatch("api-1", "p-api-1", 1, False, starts=1, running=True)
    w.services["api"].containers["api-1"] = container
    key = "api-1" if check.per_container else ""
    runner = idle_runner()
    (container if check.per_container else w.services["api"]).probes.append(runner)
    w._handle(_ProbeReport("api", key, 0, Attempt(False, "could not be reached"), t + 1,
                           runner))
    w._handle(_ProbeReport("api", key, 0, Attempt(False, answer), t + 2, runner))
    w._handle(_ProbeReport("api", key, 0, Attempt(False, answer), t + 3, runner))
    assert w.pending_reason(w.services["api"], t + 6) == words
    w._handle(_ProbeReport("api", key, 0, Attempt(True, "answered 200"), t + 7, runner))
    assert w.services["api"].ready_at is not None


def test_when_the_event_stream_cannot_be_opened_compose_up_is_stopped() -> None:
    """`up` is started before the subscription is made (see StackWatcher.run): if that
    fails, `up` must not be left running unwatched."""
    w, said = watcher(("api", parse_service_wait("running", "api"), {}))

    def refuse(**_: Any) -> None:
        raise ConnectionError("the engine does not answer")

    w.streams.api.events = refuse  # type: ignore[attr-defined]
    up = subprocess.Popen(["sleep", "30"], stdout=subprocess.PIPE, text=True)
    begun = time.monotonic()
    with pytest.raises(ConnectionError):
        w.run(up, time.time())
    assert up.poll() is not None
    assert time.monotonic() - begun < 5
    assert "stopping docker compose up, which was still running" in said


# -- the healthcheck, run by StackCI between the engine's runs of it ------------------

def test_a_healthcheck_that_passed_when_stackci_ran_it_marks_ready_before_the_engine() -> None:
    w, said = watcher(("db", ServiceWait(), {"health": True}))
    t = w.started
    feed(w, event("start", "db", t + 0.1))
    db = w.services["db"]
    runner = db.containers["db-1"].health_probe
    assert runner is not None
    w._handle(_ProbeReport("db", "db-1", HEALTHCHECK, Attempt(False, "exited 1: no"), t + 0.5,
                           runner))
    assert db.ready_at is None
    assert w.pending_reason(db, t + 1) == ("not healthy after 1.0 s (health: starting; its "
                                           "healthcheck, run by StackCI, exited 1: no)")
    w._handle(_ProbeReport("db", "db-1", HEALTHCHECK, Attempt(True, "exited 0"), t + 0.9,
                           runner))
    assert db.ready_at is not None
    assert any(line.startswith("db: healthcheck passed after ") for line in said), said


def test_once_the_engine_says_unhealthy_a_late_pass_does_not_count() -> None:
    w, _ = watcher(("db", ServiceWait(), {"health": True}), fail_fast=False)
    t = w.started
    feed(w, event("start", "db", t))
    db = w.services["db"].containers["db-1"]
    runner = db.health_probe
    assert runner is not None
    feed(w, event("health_status", "db", t + 1, health="unhealthy"))
    assert db.health_probe is None  # the engine has spoken: StackCI stops running it
    assert runner not in db.probes
    # A pass that was on its way when the engine spoke.
    w._handle(_ProbeReport("db", "db-1", HEALTHCHECK, Attempt(True, "exited 0"), t + 1.1,
                           runner))
    assert w.services["db"].ready_at is None


def test_exec_events_do_not_hide_a_container_from_the_inspect_safety_net() -> None:
    w, _ = watcher(("db", ServiceWait(), {"health": True}))
    t = w.started
    feed(w, event("start", "db", t))
    # The healthchecks StackCI runs make exec events; they are no news of the container.
    exec_event = ContainerEvent.from_raw({
        "Type": "container", "Action": "exec_start: test -f /tmp/ready",
        "Actor": {"ID": "db-1", "Attributes": {"com.docker.compose.service": "db"}},
        "timeNano": int((t + 2) * 1e9)})
    assert exec_event is None
    info = ContainerState.from_inspect({
        "Id": "db-1", "Name": "/p-db-1",
        "Config": {"Labels": {"com.docker.compose.service": "db",
                              "com.docker.compose.container-number": "1"}},
        "State": {"Running": True, "StartedAt": "2026-01-01T00:00:00Z",
                  "Health": {"Status": "healthy", "Log": []}}})
    w._handle(_Snapshot(t + 1, [info]))
    assert w.services["db"].ready_at is not None


def test_a_restart_forgets_a_healthcheck_pass() -> None:
    w, _ = watcher(("db", ServiceWait(), {"health": True, "restart": "always"}),
                   fail_fast=False)
    t = w.started
    feed(w, event("start", "db", t))
    db = w.services["db"]
    first = db.containers["db-1"].health_probe
    assert first is not None
    w._handle(_ProbeReport("db", "db-1", HEALTHCHECK, Attempt(True, "exited 0"), t + 1, first))
    assert db.ready_at is not None
    feed(w, event("die", "db", t + 2, exit_code=1), event("start", "db", t + 2.5))
    assert db.ready_at is None
    assert db.containers["db-1"].health_probe not in (None, first)
    w._handle(_ProbeReport("db", "db-1", HEALTHCHECK, Attempt(True, "exited 0"), t + 2.6, first))
    assert db.ready_at is None  # the last run's pass is stale


def test_with_run_healthchecks_off_only_the_engine_counts() -> None:
    w, _ = watcher(("db", ServiceWait(), {"health": True}), run_healthchecks=False)
    feed(w, event("start", "db", w.started))
    assert w.services["db"].containers["db-1"].health_probe is None
    assert w.services["db"].containers["db-1"].probes == []


@pytest.mark.parametrize(("config", "plan"), [
    ({"Healthcheck": {"Test": ["CMD", "pg_isready", "-U", "app"], "Interval": 10 * 10**9,
                      "Timeout": 5 * 10**9}},
     (["pg_isready", "-U", "app"], 5.0, 10.0)),
    ({"Healthcheck": {"Test": ["CMD-SHELL", "curl -f localhost || exit 1"]}},
     (["/bin/sh", "-c", "curl -f localhost || exit 1"], DOCKER_DEFAULT_HEALTH_SECONDS,
      DOCKER_DEFAULT_HEALTH_SECONDS)),
    ({"Healthcheck": {"Test": ["CMD-SHELL", "redis-cli ping"], "Interval": 10**9},
      "Shell": ["/bin/bash", "-o", "pipefail", "-c"]},
     (["/bin/bash", "-o", "pipefail", "-c", "redis-cli ping"],
      DOCKER_DEFAULT_HEALTH_SECONDS, 1.0)),
    ({"Healthcheck": {"Test": ["NONE"]}}, None),
    ({"Healthcheck": {"Test": ["CMD"]}}, None),
    ({"Healthcheck": {}}, None),
    ({}, None),
])
def test_the_healthcheck_runs_as_the_engine_runs_it(config: dict[str, Any],
                                                   plan: Any) -> None:
    assert healthcheck_plan(config) == plan


class HealthcheckApi:
    """An engine API whose container has the given healthcheck; `exec_start` blocks
    while `hang` is set."""

    def __init__(self, healthcheck: dict[str, Any]) -> None:
        self.healthcheck = healthcheck
        self.created: list[list[str]] = []
        self.hang = threading.Event()

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        return {"Id": container_id, "Config": {"Healthcheck": self.healthcheck}}

    def exec_create(self, container_id: str, argv: list[str], **_: Any) -> str:
        self.created.append(argv)
        return f"exec-{len(self.created)}"

    def exec_start(self, exec_id: str) -> bytes:
        while self.hang.is_set():
            time.sleep(0.01)
        return b"ok\n"

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        return {"ExitCode": 0}


def healthcheck_probe(healthcheck: dict[str, Any]) -> tuple[HealthcheckProbe, HealthcheckApi]:
    client = FakeClient()
    api = HealthcheckApi(healthcheck)
    client.api = api  # type: ignore[assignment]
    return HealthcheckProbe(client, "db-1", None, RunBudget(1000)), api  # type: ignore[arg-type]


def test_a_healthcheck_the_engine_runs_often_is_left_to_it() -> None:
    probe, api = healthcheck_probe({"Test": ["CMD", "true"], "Interval": 500_000_000})
    assert probe.attempt().final
    assert api.created == []


def test_the_healthcheck_runs_its_own_command_at_half_its_interval() -> None:
    probe, api = healthcheck_probe({"Test": ["CMD-SHELL", "pg_isready"], "Interval": 10**9})
    assert probe.attempt() == Attempt(True, "exited 0")
    assert api.created == [["/bin/sh", "-c", "pg_isready"]]
    assert probe.spacing == 0.5
    slow, _ = healthcheck_probe({"Test": ["CMD", "true"], "Interval": 60 * 10**9})
    slow.attempt()
    assert slow.spacing == 2.0


def test_a_hung_healthcheck_run_is_not_started_again_while_it_runs() -> None:
    probe, api = healthcheck_probe({"Test": ["CMD", "curl", "db"], "Interval": 10**9,
                                    "Timeout": 50_000_000})
    api.hang.set()
    assert probe.attempt() == Attempt(False, "did not finish in 0.05 s")
    assert probe.attempt() == Attempt(False, "did not finish in 0.05 s")
    assert len(api.created) == 1
    api.hang.clear()
    time.sleep(0.1)
    assert probe.attempt().ok
    assert len(api.created) == 2


def test_the_run_budget_spreads_runs_and_gives_way_to_a_stop() -> None:
    budget = RunBudget(per_second=1)
    stop = threading.Event()
    assert budget.wait_turn(stop)  # the first turn is now
    stop.set()
    assert not budget.wait_turn(stop)  # the next is a second away, and a stop came first
