"""The smoke workflow GitHub runs (.github/workflows/smoke.yml) under act: every job's
steps as written, each action from the checkout (`./actions/<name>`), against
examples/demo, with GITHUB_API_URL at the fake GitHub. The broken stack's step fails
and the step after it asserts so; the mail reaches the job's own SMTP server."""

from __future__ import annotations

import re

import pytest
import yaml

from fake_github.fixtures import BOT, WRITER_TOKEN
from fake_github.fixtures import REPO as GITHUB_REPO
from stackci_testing.act import make_repo, run_act
from stackci_testing.docker import leftovers
from stackci_testing.runner import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

WORKFLOWS = REPO / ".github" / "workflows"


def test_the_smoke_workflow_passes_under_act(tmp_path, fake_github, docker_client) -> None:
    repo = make_repo(tmp_path, {"examples/demo": REPO / "examples" / "demo"})
    run = run_act(repo, "smoke.yml", event_name="push", workflows=WORKFLOWS,
                  env={"GITHUB_API_URL": fake_github.url},
                  secrets={"GITHUB_TOKEN": WRITER_TOKEN})
    (tmp_path / "act.log").write_text(run.log)  # kept by pytest, for reading afterwards
    assert run.code == 0, run
    # Every job ran, and every one succeeded.
    jobs = yaml.safe_load((WORKFLOWS / "smoke.yml").read_text())["jobs"]
    ended = dict(re.findall(r"^\[smoke/(.+?)\s*\]\s+🏁\s+Job (succeeded|failed)", run.log, re.M))
    assert ended == {job["name"]: "succeeded" for job in jobs.values()}, run
    # The must-fail case: compose-up-and-wait failed on the broken stack, the job went on,
    # and the step that asserts the failure passed.
    assert re.search(r"Failure - Main \./actions/compose-up-and-wait", run.log), run
    assert "Success - Main The broken stack must have failed the step" in run.log, run
    assert "migration 2 of 3 failed" in run.log
    # failure-issue's dry run showed the would-be issue and wrote none.
    assert "**Would open**: CI failing: smoke on main" in run.log, run
    assert not [i for i in fake_github.state.repo(GITHUB_REPO).issues.values() if i.user == BOT]
    # The mail arrived at the job's SMTP server.
    assert "Success - Main Check that the mail arrived" in run.log, run
    assert re.search(r"Subject: \[octo/app\] smoke failed on main \(", run.log), run
    # Every stack the smoke brought up was torn down again.
    assert not leftovers(docker_client)
