"""label-gate through the launcher and the StackCI image, as a workflow step runs it:
the container reaches the fake GitHub on the runner's loopback (host networking) and
reads the event payload at the runner's own path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fake_github import FakeGitHub
from fake_github.fixtures import BOT, REPO, WRITER_TOKEN
from stackci_testing.runner import run_action

pytestmark = pytest.mark.docker


def test_gate_and_comment_through_the_launcher(
    fake_github: FakeGitHub, wf_env: dict[str, str], tmp_path: Path, docker_client: object
) -> None:
    pr = fake_github.state.add_pull(REPO, labels=["bug"])
    assert pr.pull is not None
    event = tmp_path / "event" / "pull_request.json"
    event.parent.mkdir()
    event.write_text(json.dumps({"action": "labeled", "number": pr.number,
                                 "pull_request": {"number": pr.number,
                                                  "head": {"sha": pr.pull.head_sha}}}))
    env = {**wf_env, "GITHUB_API_URL": fake_github.url, "GITHUB_EVENT_NAME": "pull_request",
           "GITHUB_EVENT_PATH": str(event), "GITHUB_SHA": pr.pull.head_sha}
    inputs = {"all-of": "ready-for-merge", "comment": "true", "on-mismatch": "skip",
              "github-token": WRITER_TOKEN, "image": "build"}

    closed = run_action("label-gate", inputs, env, launcher=True)
    assert closed.code == 0, closed
    assert closed.outputs["should-run"] == "false"
    assert closed.outputs["reason"] == "missing label ready-for-merge (has: bug)"
    assert closed.summary.startswith("### ⏭️ label-gate: closed")
    [(user, body)] = [(c.user, c.body) for c in fake_github.state.comments(REPO, pr.number)]
    assert user == BOT
    assert "missing label ready-for-merge (has: bug)" in body
    assert WRITER_TOKEN not in closed.stdout.replace(f"::add-mask::{WRITER_TOKEN}", "")

    fake_github.state.add_label_to_issue(REPO, pr.number, "ready-for-merge")
    opened = run_action("label-gate", inputs, env, launcher=True)
    assert opened.code == 0, opened
    assert opened.outputs["should-run"] == "true"
    assert opened.json_output("matched") == ["ready-for-merge"]
    assert fake_github.state.comments(REPO, pr.number) == []
