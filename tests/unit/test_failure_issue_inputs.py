"""failure-issue's inputs: every bad one is exit 2 with one error naming it, before any
request is made; the settings read from good ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackci.actions.failure_issue import Settings
from stackci.core.runner.context import RunContext
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.manifest import load_manifest
from stackci_testing.runner import assert_one_bad_input, run_action

TOKEN = "ghs_inputs_secret_token"
GOOD = {"github-token": TOKEN}

BAD_INPUTS = [
    ("github-token", {"github-token": ""}),
    ("status", {"status": "red"}),
    ("needs", {"needs": "{not json"}),
    ("needs", {"needs": '{"build": {"result": "green"}}'}),
    ("title", {"title": "CI {env.GITHUB_TOKEN}"}),
    ("title", {"title": "broken {"}),
    ("body-extra", {"body-extra": "see {secrets.X}"}),
    ("body-extra-file", {"body-extra-file": "missing.md"}),
    ("body-extra-file", {"body-extra": "x", "body-extra-file": "extra.md"}),
    ("group-by", {"group-by": "matrix"}),
    ("close-on-success", {"close-on-success": "maybe"}),
    ("reopen-window", {"reopen-window": "soon"}),
    ("reopen-window", {"reopen-window": "9000h"}),
    ("failures-before-open", {"failures-before-open": "0"}),
    ("failures-before-open", {"failures-before-open": "two"}),
    ("successes-before-close", {"successes-before-close": "-1"}),
    ("dry-run", {"dry-run": "perhaps"}),
    ("timeout", {"timeout": "0s"}),
    ("timeout", {"timeout": "7h"}),
]


@pytest.mark.parametrize(("name", "override"), BAD_INPUTS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD_INPUTS)])
def test_bad_input(name: str, override: dict[str, str], wf_env: dict[str, str]) -> None:
    (Path(wf_env["GITHUB_WORKSPACE"]) / "extra.md").write_text("more\n")
    # Nothing may be asked of GitHub: this address refuses every connection.
    env = {**wf_env, "GITHUB_API_URL": "http://127.0.0.1:9", "GITHUB_EVENT_NAME": "push"}
    result = run_action("failure-issue", {**GOOD, **override}, env)
    assert_one_bad_input(result, name, TOKEN)


def test_an_unknown_placeholder_names_the_known_ones(wf_env: dict[str, str]) -> None:
    env = {**wf_env, "GITHUB_API_URL": "http://127.0.0.1:9"}
    result = run_action("failure-issue", {**GOOD, "title": "{branchname} broke"}, env)
    assert result.code == 2, result
    message = result.errors()[0].message
    assert "unknown placeholder {branchname}" in message
    assert "{branch}" in message
    assert "{failed_job}" in message


def settings(raw: dict[str, str]) -> Settings:
    reader = InputReader({**GOOD, **raw}, load_manifest("failure-issue"))
    made = Settings.from_inputs(reader, RunContext.from_env({}))
    reader.done()
    return made


def test_defaults() -> None:
    made = settings({})
    assert made.labels == ("bug",)
    assert made.group_by == "workflow"
    assert made.reopen_window == 24 * 3600
    assert made.timeout == 120
    assert made.title.render({"workflow": "CI", "branch": "main"}) == "CI failing: CI on main"


def test_the_default_title_by_job_names_the_job() -> None:
    made = settings({"group-by": "job"})
    assert made.title.render({"workflow": "CI", "branch": "main", "failed_job": "test"}) == \
        "CI failing: CI / test on main"
