"""The root action, run by act in host mode through the launcher, as a workflow would."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackci_testing.act import make_repo, run_act

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


def test_root_action_doctor_outputs_reach_a_later_step(tmp_path: Path, docker_client) -> None:
    run = run_act(make_repo(tmp_path), "doctor.yml")
    assert run.code == 0, run
    assert run.result("healthy") == "true"
    report = run.result("report").split("\n")
    # A value with newlines and a line that looks like a delimiter arrives whole ...
    assert report[1:4] == ["workflow: doctor",
                           "ghadelimiter_00000000-0000-0000-0000-000000000000",
                           "evil=injected; job: doctor; event: push"]
    assert any(line.startswith("ok   docker: engine ") for line in report)
    assert any(line.startswith("ok   compose: Docker Compose 2.") for line in report)
    assert any(line.startswith("ok   GITHUB_OUTPUT: ") for line in report)
    # ... and injects no other output.
    assert run.result("evil") == ""
