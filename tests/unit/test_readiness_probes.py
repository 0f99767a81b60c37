"""The probes' own rules, without an engine: the healthcheck run as the engine runs
it, at its own pace, never piled up, and the budget that spreads such runs."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from stackci.readiness.probes import (
    DOCKER_DEFAULT_HEALTH_SECONDS,
    HealthcheckProbe,
    RunBudget,
    healthcheck_plan,
)
from stackci.readiness.state import Attempt


class FakeClient:
    def __init__(self, api: Any) -> None:
        self.api = api


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
    api = HealthcheckApi(healthcheck)
    client = FakeClient(api)
    return HealthcheckProbe(client, "db-1", None, RunBudget(1000)), api  # type: ignore[arg-type]


def test_a_healthcheck_the_engine_runs_often_is_left_to_it() -> None:
    probe, api = healthcheck_probe({"Test": ["CMD", "true"], "Interval": 500_000_000})
    assert probe.attempt().final
    assert api.created == []


def test_the_healthcheck_runs_its_own_command_at_half_its_interval() -> None:
    probe, api = healthcheck_probe({"Test": ["CMD-SHELL", "pg_isready"], "Interval": 10**9})
    assert probe.attempt() == Attempt(True, "exited 0", output="ok\n")
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
