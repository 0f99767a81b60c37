"""label-gate's bad inputs: each is exit 2 with exactly one error annotation naming the
input, no traceback, no request that writes, and the token shown nowhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fake_github import FakeGitHub
from fake_github.fixtures import REPO, WRITER_TOKEN
from stackci_testing.runner import run_action

GOOD = {"all-of": "ready-for-merge", "github-token": WRITER_TOKEN}

CASES = [
    ("no rule at all", {"all-of": ""}, "any-of", "at least one label in any-of, all-of or none-of"),
    ("rules of commas only", {"all-of": " , ,", "none-of": "\n"}, "any-of", "all three are empty"),
    ("unknown on-mismatch", {"on-mismatch": "warn"}, "on-mismatch", "one of fail, skip"),
    ("on-mismatch in capitals", {"on-mismatch": "SKIP"}, "on-mismatch", "one of fail, skip"),
    ("comment not a boolean", {"comment": "yes"}, "comment", "true or false"),
    ("fresh-labels not a boolean", {"fresh-labels": "1"}, "fresh-labels", "true or false"),
    ("pr-number zero", {"pr-number": "0"}, "pr-number", "a whole number of at least 1"),
    ("pr-number negative", {"pr-number": "-4"}, "pr-number", "a whole number of at least 1"),
    ("pr-number a word", {"pr-number": "latest"}, "pr-number", "a whole number of at least 1"),
    ("pr-number a fraction", {"pr-number": "1.5"}, "pr-number", "a whole number of at least 1"),
    ("empty token", {"github-token": ""}, "github-token", "a token that can read"),
    ("token GitHub refuses", {"github-token": "ghs_not_a_real_token"}, "github-token",
     "a token GitHub accepts (it answered 401 Bad credentials)"),
    ("pr-number of no pull request", {"pr-number": "999"}, "pr-number",
     f"a pull request of {REPO} (GitHub has none by that number)"),
]


@pytest.mark.parametrize(("case", "inputs", "name", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_input(case: str, inputs: dict[str, str], name: str, expected: str,
                   fake_github: FakeGitHub, wf_env: dict[str, str], tmp_path: Path) -> None:
    pr = fake_github.state.add_pull(REPO)
    event = tmp_path / "event.json"  # a PR to read: a token is only tried when used
    event.write_text(json.dumps({"action": "opened", "number": pr.number,
                                 "pull_request": {"number": pr.number}}))
    env = {**wf_env, "GITHUB_API_URL": fake_github.url, "GITHUB_EVENT_NAME": "pull_request",
           "GITHUB_EVENT_PATH": str(event)}
    result = run_action("label-gate", {**GOOD, **inputs}, env)
    assert result.code == 2, result
    [error] = result.errors()
    assert error.title == "Bad input"
    assert error.message.startswith(f"input '{name}': expected "), error.message
    assert expected in error.message
    assert "Traceback" not in result.stdout + result.stderr
    assert result.outputs == {}  # nothing was decided
    assert not fake_github.requests(method="POST")
    assert not fake_github.requests(method="PATCH")
    token = {**GOOD, **inputs}["github-token"]
    if token:
        shown = result.stdout.replace(f"::add-mask::{token}", "") + result.stderr
        assert token not in shown


def test_every_problem_is_reported_at_once(wf_env: dict[str, str]) -> None:
    result = run_action("label-gate", {"on-mismatch": "maybe", "comment": "nope",
                                       "github-token": ""}, wf_env)
    assert result.code == 2, result
    named = sorted(e.message.split("'")[1] for e in result.errors())
    assert named == ["any-of", "comment", "github-token", "on-mismatch"]
