"""What the runner tells us about this run, read once from a mapping."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunContext:
    in_actions: bool
    repository: str
    server_url: str
    api_url: str
    run_id: str
    run_number: str
    run_attempt: str
    workflow: str
    job: str
    ref: str
    ref_name: str
    head_ref: str
    sha: str
    actor: str
    event_name: str
    workspace: Path
    event: dict[str, Any] = field(default_factory=dict)
    # The whole environment the action runs in, read here once: no action reads the
    # process environment itself (tests hand in a mapping of their own).
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str], cwd: Path | None = None) -> RunContext:
        event: dict[str, Any] = {}
        event_path = env.get("GITHUB_EVENT_PATH")
        if event_path and Path(event_path).is_file():
            try:
                loaded = json.loads(Path(event_path).read_text(encoding="utf-8"))
                event = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                event = {}
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        return cls(
            in_actions=env.get("GITHUB_ACTIONS") == "true",
            repository=env.get("GITHUB_REPOSITORY", ""),
            server_url=server,
            api_url=env.get("GITHUB_API_URL", _default_api_url(server)).rstrip("/"),
            run_id=env.get("GITHUB_RUN_ID", ""),
            run_number=env.get("GITHUB_RUN_NUMBER", ""),
            run_attempt=env.get("GITHUB_RUN_ATTEMPT", "1") or "1",
            workflow=env.get("GITHUB_WORKFLOW", ""),
            job=env.get("GITHUB_JOB", ""),
            ref=env.get("GITHUB_REF", ""),
            ref_name=env.get("GITHUB_REF_NAME", ""),
            head_ref=env.get("GITHUB_HEAD_REF", ""),
            sha=env.get("GITHUB_SHA", ""),
            actor=env.get("GITHUB_ACTOR", ""),
            event_name=env.get("GITHUB_EVENT_NAME", ""),
            workspace=Path(env.get("GITHUB_WORKSPACE") or cwd or Path.cwd()),
            event=event,
            env=dict(env),
        )

    @property
    def branch(self) -> str:
        """The branch being built: the PR's head branch for pull requests."""
        return self.head_ref or self.ref_name

    @property
    def owner(self) -> str:
        return self.repository.partition("/")[0]

    @property
    def run_url(self) -> str:
        if not (self.repository and self.run_id):
            return ""
        url = f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"
        return url + (f"/attempts/{self.run_attempt}" if self.run_attempt != "1" else "")

    @property
    def event_pr_number(self) -> int | None:
        """The pull request this event is about, when the payload names one. An
        `issue_comment` or `issues` event names an issue, which is a pull request only
        when the payload says so (`issue.pull_request`)."""
        number = (self.event.get("pull_request") or {}).get("number")
        if isinstance(number, int):
            return number
        issue = self.event.get("issue") or {}
        if issue.get("pull_request"):
            number = issue.get("number")
            return number if isinstance(number, int) else None
        if issue:
            return None
        number = self.event.get("number")
        return number if isinstance(number, int) else None

    @property
    def event_issue_number(self) -> int | None:
        """The plain issue (not a pull request) this `issues`/`issue_comment` event is
        about, if it is about one."""
        issue = self.event.get("issue") or {}
        number = issue.get("number")
        return number if isinstance(number, int) and not issue.get("pull_request") else None


def _default_api_url(server: str) -> str:
    if server == "https://github.com":
        return "https://api.github.com"
    return f"{server}/api/v3"  # GitHub Enterprise Server
