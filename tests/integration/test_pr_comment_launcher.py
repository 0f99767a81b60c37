"""pr-comment through the launcher and the StackCI image, as a workflow step runs it:
the container reaches the fake GitHub on the runner's loopback (host networking), reads
the event payload and the result files at the runner's paths, and writes the outputs and
the job summary the runner reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fake_github import FakeGitHub
from fake_github.fixtures import BOT, REPO, WRITER_TOKEN
from stackci.core.github.sticky import hidden_marker
from stackci_testing.runner import run_action

pytestmark = pytest.mark.docker
DATA = Path(__file__).resolve().parents[1] / "data" / "pr-comment"


def test_upsert_through_the_launcher(fake_github: FakeGitHub, wf_env: dict[str, str],
                                     tmp_path: Path, docker_client: object) -> None:
    issue = fake_github.state.add_pull(REPO)
    event = tmp_path / "event" / "event.json"
    event.parent.mkdir()
    event.write_text(json.dumps({"number": issue.number,
                                 "pull_request": {"number": issue.number}}))
    shutil.copytree(DATA, Path(wf_env["GITHUB_WORKSPACE"]) / "results")
    env = {**wf_env, "GITHUB_API_URL": fake_github.url, "GITHUB_EVENT_NAME": "pull_request",
           "GITHUB_EVENT_PATH": str(event), "GITHUB_WORKFLOW": "CI", "GITHUB_JOB": "report"}
    inputs = {"github-token": WRITER_TOKEN, "image": "build",
              "needs": json.dumps({"build": {"result": "success", "outputs": {}}}),
              "junit": "results/junit-green.xml", "coverage": "results/coverage.xml"}
    result = run_action("pr-comment", inputs, env, launcher=True)
    assert result.code == 0, result
    assert result.outputs["action"] == "created"
    [comment] = fake_github.state.comments(REPO, issue.number)
    assert comment.user == BOT
    assert comment.body.startswith(hidden_marker("pr-comment", "CI/report") + "\n")
    assert "### ✅ Ready to merge" in comment.body
    assert "| 5 | 0 | 0 | 1 | 12 s |" in comment.body
    assert result.outputs["comment-id"] == str(comment.id)
    assert "### ✅ Ready to merge" in result.summary
    assert WRITER_TOKEN not in result.summary + json.dumps(result.outputs)
