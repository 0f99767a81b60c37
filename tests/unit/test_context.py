"""The run context, read from the runner's variables."""

from __future__ import annotations

import json
from pathlib import Path

from stackci.core.engine.compose import compose_project_name, default_project_name
from stackci.core.github.pulls import queue_pr_number
from stackci.core.runner.context import RunContext


def test_pull_request_context(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 17}}))
    ctx = RunContext.from_env({
        "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "octo/app", "GITHUB_RUN_ID": "99",
        "GITHUB_RUN_ATTEMPT": "2", "GITHUB_JOB": "Integration Tests", "GITHUB_REF_NAME": "17/merge",
        "GITHUB_HEAD_REF": "feature/x", "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event), "GITHUB_SERVER_URL": "https://github.com"})
    assert ctx.branch == "feature/x"
    assert ctx.event_pr_number == 17
    assert ctx.api_url == "https://api.github.com"
    assert ctx.run_url == "https://github.com/octo/app/actions/runs/99/attempts/2"
    assert default_project_name(ctx) == "stackci-99-2-integration-tests"


def test_enterprise_server_api_url_and_laptop_defaults() -> None:
    ghes = RunContext.from_env({"GITHUB_SERVER_URL": "https://git.example.com"})
    assert ghes.api_url == "https://git.example.com/api/v3"
    laptop = RunContext.from_env({})
    assert default_project_name(laptop) is None  # Compose's own default then
    assert laptop.run_url == ""


def test_compose_project_names_fit_composes_rule() -> None:
    assert compose_project_name("StackCI 12/1: Build & Test!") == "stackci-12-1-build-test"
    assert compose_project_name("___") == "stackci"


def test_merge_queue_ref() -> None:
    assert queue_pr_number("refs/heads/gh-readonly-queue/main/pr-123-0a1b2c3d") == 123
    assert queue_pr_number("refs/heads/main") is None


def _ctx_with_event(tmp_path: Path, event: dict[str, object]) -> RunContext:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return RunContext.from_env({"GITHUB_EVENT_PATH": str(path)})


def test_an_issue_event_names_a_pull_request_only_when_the_issue_is_one(tmp_path: Path) -> None:
    """`issue_comment` and `issues` events carry `issue.number` for plain issues too;
    only `issue.pull_request` says the issue is a pull request."""
    plain_issue = {"action": "created", "issue": {"number": 5}, "comment": {"id": 1}}
    assert _ctx_with_event(tmp_path, plain_issue).event_pr_number is None
    on_a_pr = {"action": "created", "issue": {"number": 6, "pull_request": {"url": "x"}}}
    assert _ctx_with_event(tmp_path, on_a_pr).event_pr_number == 6
    assert _ctx_with_event(tmp_path, {"number": 7, "pull_request": {}}).event_pr_number == 7
    assert _ctx_with_event(tmp_path, {"pull_request": {"number": 8}}).event_pr_number == 8
