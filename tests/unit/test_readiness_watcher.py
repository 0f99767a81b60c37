"""The wait's loop, where it can be tried without an engine: `docker compose up` is
never left running unwatched."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest

from stackci.readiness.machine import ServiceSetup
from stackci.readiness.spec import parse_service_wait
from stackci.readiness.stack import ServicePlan
from stackci.readiness.up import ComposeUp
from stackci.readiness.watcher import StackWatcher


class RefusingApi:
    def events(self, **_: Any) -> None:
        raise ConnectionError("the engine does not answer")


class RefusingClient:
    api = RefusingApi()


def test_when_the_event_stream_cannot_be_opened_compose_up_is_stopped() -> None:
    """`up` is started before the subscription is made (see StackWatcher.run): if that
    fails, `up` must not be left running unwatched."""
    said: list[str] = []
    wait = parse_service_wait("running", "api")
    plan = ServicePlan(name="api", wait=wait, replicas=1, has_healthcheck=False,
                       restart_policy="no")
    watcher = StackWatcher(
        client=RefusingClient(), streams=RefusingClient(),  # type: ignore[arg-type]
        project="p", setups=[ServiceSetup(plan, wait.effective_checks, None, None)],
        timeout=60, fail_fast=True, say=said.append, debug=said.append)
    up = ComposeUp(subprocess.Popen(["sleep", "30"], stdout=subprocess.PIPE, text=True))
    begun = time.monotonic()
    with pytest.raises(ConnectionError):
        watcher.run(up, time.time())
    assert up.proc.poll() is not None
    assert time.monotonic() - begun < 5
    assert "stopping docker compose up, which was still running" in said


def test_stopping_up_that_ended_by_itself_says_nothing() -> None:
    said: list[str] = []
    up = ComposeUp(subprocess.Popen(["true"], stdout=subprocess.PIPE, text=True))
    up.proc.wait()
    assert up.stop(said.append) is False
    assert up.ended is not None
    assert up.ended.code == 0
    assert said == []
