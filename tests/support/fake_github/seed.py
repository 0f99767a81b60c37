"""Seeding from JSON (the `--seed` file and `POST /_fake/state`) and dumping for inspection.

Each seed entry is the keyword arguments of the matching `GitHubState.add_*` helper, so
the file format needs no documentation of its own beyond those signatures:

    {
      "users":  ["octocat", {"login": "stackci-bot", "type": "Bot"}],
      "tokens": [{"token": "ghs_writer", "login": "stackci-bot", "permission": "write"}],
      "repos":  ["octo/app", {"full_name": "octo/lib", "default_branch": "trunk"}],
      "labels": [{"repo": "octo/app", "name": "ci:full", "color": "0e8a16"}],
      "issues": [{"repo": "octo/app", "title": "Bug", "user": "octocat", "labels": ["bug"]}],
      "pulls":  [{"repo": "octo/app", "title": "Fix", "user": "fork-user",
                  "head_ref": "fix", "head_repo": "fork-user/app", "labels": ["ci:full"]}],
      "issue_labels": [{"repo": "octo/app", "number": 2, "label": "ok",
                        "actor": "maintainer", "at": "2024-05-01T10:00:00Z"}],
      "comments": [{"repo": "octo/app", "number": 2, "body": "hi", "user": "octocat"}],
      "commits":  [{"repo": "octo/app", "number": 2, "sha": "...", "at": "..."},
                   {"repo": "octo/app", "branch": "main", "message": "Fix\\n\\nBody",
                    "author": "octocat", "parents": ["<sha>", "<sha>"]}],
      "workflows": [{"repo": "octo/app", "path": ".github/workflows/ci.yml", "name": "CI",
                     "id": 7}],
      "workflow_runs": [{"repo": "octo/app", "id": 42, "head_sha": "...",
                         "head_branch": "main", "event": "push",
                         "path": ".github/workflows/ci.yml", "run_number": 17,
                         "run_attempt": 2,
                         "jobs": [{"name": "build", "steps": ["Checkout", "Test"],
                                   "run_attempt": 1, "conclusion": "failure",
                                   "log": "2024-05-01T10:00:00.0000000Z boom\\n"},
                                  {"name": "build", "log_expired": true}]}],
      "run_attempts": [{"repo": "octo/app", "run_id": 42, "conclusion": "success",
                        "at": "...", "jobs": [{"name": "build", "log": "ok\\n"}]}]
    }

Sections are applied in that order, so seeded issues are numbered before seeded pulls
unless an entry gives its `number`. Timestamps are ISO 8601 strings under keys named
`at` or ending in `_at`.

`commits` take a PR `number` (a new head for the PR) or a `branch` (a new head for the
branch; a new branch starts from the default branch's head); their parent is the
previous head unless `parents` says otherwise. A PR's base branch gets a root commit
(`fake_sha(repo, branch)`) when first used, so `compare` can tell what a PR adds.
Workflows are registered by their runs' `path` too (named after the first run); give a
`workflows` entry only for a fixed `id`, another name, or a workflow without runs.
A run's jobs belong to its `run_attempt` (the latest) unless they give their own;
`run_attempts` entries are re-runs (`add_run_attempt`): each adds an attempt, with its
jobs, on top of the run's latest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from fake_github.render import iso
from fake_github.state import GitHubState


def _section_adders(state: GitHubState) -> dict[str, Callable[..., object]]:
    return {
        "users": state.add_user,
        "tokens": state.add_token,
        "repos": state.add_repo,
        "labels": state.add_label,
        "issues": state.add_issue,
        "pulls": state.add_pull,
        "issue_labels": state.add_label_to_issue,
        "comments": state.add_comment,
        "commits": state.push_commit,
        "workflows": state.add_workflow,
        "workflow_runs": state.add_workflow_run,
        "run_attempts": state.add_run_attempt,
    }


# A bare string stands for the first argument of these sections.
_SHORTHAND = {"users": "login", "repos": "full_name"}


def load_seed(state: GitHubState, seed: Mapping[str, Any]) -> None:
    adders = _section_adders(state)
    unknown = set(seed) - set(adders)
    if unknown:
        raise ValueError(f"unknown seed sections {sorted(unknown)}; expected {list(adders)}")
    with state.lock:
        for section, add in adders.items():
            for entry in seed.get(section, ()):
                add(**_parse_dates(_kwargs(section, entry)))


def _kwargs(section: str, entry: Any) -> Mapping[str, Any]:
    if isinstance(entry, str) and section in _SHORTHAND:
        return {_SHORTHAND[section]: entry}
    if not isinstance(entry, Mapping):
        raise TypeError(f"seed {section}: expected an object, got {entry!r}")
    return entry


def _parse_dates(value: Any, key: str = "") -> Any:
    if isinstance(value, Mapping):
        return {k: _parse_dates(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_parse_dates(v, key) for v in value]
    if isinstance(value, str) and (key == "at" or key.endswith("_at")):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def dump_state(state: GitHubState) -> dict[str, Any]:
    """Everything, as JSON-able data: for inspecting a hand-run server, not re-seeding."""
    with state.lock:
        return {
            "users": [_jsonable(dataclasses.asdict(u)) for u in state.users.values()],
            "tokens": [_jsonable(dataclasses.asdict(t)) for t in state.tokens.values()],
            "repos": [
                {"full_name": r.full_name, **_jsonable(dataclasses.asdict(r))}
                for r in state.repos.values()
            ],
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    return value
