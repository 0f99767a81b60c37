"""pr-comment's inputs: every bad one is exit 2 with one error naming it, before any
request is made; the settings read from good ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackci.actions.pr_comment import Settings
from stackci.core.github.sticky import default_key
from stackci.core.runner.context import RunContext
from stackci.core.runner.errors import BadInputs
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.manifest import load_manifest
from stackci_testing.runner import assert_one_bad_input, run_action

TOKEN = "ghs_inputs_secret_token"
GOOD = {"github-token": TOKEN, "body": "hello"}
NEEDS = '{"build": {"result": "success"}, "e2e": {"result": "skipped"}}'

BAD_INPUTS = [
    ("mode", {"mode": "replace"}),
    ("pr-number", {"pr-number": "seven"}),
    ("pr-number", {"pr-number": "0"}),
    ("needs", {"needs": "{not json"}),
    ("needs", {"needs": "[]"}),
    ("needs", {"needs": "{}"}),
    ("needs", {"needs": '{"build": {"result": "green"}}'}),
    ("body-file", {"body-file": "comment.md"}),  # together with body
    ("body-file", {"body": "", "body-file": "missing.md"}),
    ("body-file", {"body": "", "body-file": "folder"}),
    ("body-file", {"body": "", "body-file": "binary.md"}),
    ("body", {"body": ""}),  # nothing to post at all
    ("github-token", {"github-token": "", "mode": "delete"}),  # only a delete needs one
    ("fail-on-read-only", {"fail-on-read-only": "yes"}),
    ("key", {"key": "k" * 201}),
    ("gate", {"gate": "yes"}),
    ("gate", {"gate": "true"}),  # with neither needs nor junit: nothing to judge
    ("allowed-skips", {"needs": NEEDS, "allowed-skips": "docs"}),  # not in needs
    ("allowed-failures", {"needs": NEEDS, "allowed-failures": "build, Build"}),
    ("allowed-skips", {"allowed-skips": "build"}),  # without needs
    ("allowed-failures", {"needs": NEEDS, "allowed-failures": '["build", 3]'}),
    ("allowed-skips", {"needs": NEEDS, "allowed-skips": '["build"'}),  # not JSON
]


@pytest.mark.parametrize(("name", "override"), BAD_INPUTS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD_INPUTS)])
def test_bad_input(name: str, override: dict[str, str], wf_env: dict[str, str]) -> None:
    workspace = Path(wf_env["GITHUB_WORKSPACE"])
    (workspace / "comment.md").write_text("# hi\n")
    (workspace / "folder").mkdir()
    (workspace / "binary.md").write_bytes(b"\xff\xfe\x00bad")
    # Nothing may be asked of GitHub: this address refuses every connection.
    env = {**wf_env, "GITHUB_API_URL": "http://127.0.0.1:9", "GITHUB_EVENT_NAME": "push"}
    result = run_action("pr-comment", {**GOOD, **override}, env)
    assert_one_bad_input(result, name, TOKEN)


def settings(raw: dict[str, str], env: dict[str, str] | None = None) -> Settings:
    reader = InputReader(raw, load_manifest("pr-comment"))
    made = Settings.from_inputs(reader, RunContext.from_env(env or {}))
    reader.done()
    return made


def test_good_inputs_are_read(tmp_path: Path) -> None:
    (tmp_path / "c.md").write_text("  indented\n\n**bold**\n")
    made = settings({"github-token": TOKEN, "body-file": "c.md", "pr-number": "12",
                     "needs": '{"a": {"result": "success", "outputs": {}}}',
                     "junit": "a/*.xml\nb/**/*.xml", "coverage": "cov.xml, more.xml",
                     "mode": "recreate", "key": "summary", "fail-on-read-only": "true"},
                    {"GITHUB_WORKSPACE": str(tmp_path)})
    assert made.body == "  indented\n\n**bold**\n"  # a file's Markdown is kept as is
    assert made.pr_number == 12
    assert made.needs is not None
    assert made.needs[0].job == "a"
    assert made.junit == ("a/*.xml", "b/**/*.xml")
    assert made.coverage == ("cov.xml", "more.xml")
    assert (made.mode, made.key, made.fail_on_read_only) == ("recreate", "summary", True)


def test_delete_needs_nothing_to_post() -> None:
    made = settings({"github-token": TOKEN, "mode": "delete"})
    assert made.mode == "delete"
    assert made.body is None


def test_defaults() -> None:
    made = settings({"github-token": TOKEN, "body": "x"},
                    {"GITHUB_WORKFLOW": "CI", "GITHUB_JOB": "summary"})
    assert (made.mode, made.key, made.pr_number, made.fail_on_read_only) == (
        "upsert", "CI/summary", None, False)
    assert default_key(RunContext.from_env({})) == "default"


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(BadInputs) as caught:
        settings({"github-token": TOKEN, "mode": "x", "needs": "[]", "body": "b",
                  "gate": "maybe", "allowed-skips": "e2e"})
    # allowed-skips against a needs that could not be read: only needs' error.
    assert sorted(e.name for e in caught.value.errors) == ["gate", "mode", "needs"]
    with pytest.raises(BadInputs) as caught:
        settings({"github-token": "", "mode": "delete", "allowed-failures": "x"})
    assert sorted(e.name for e in caught.value.errors) == ["allowed-failures", "github-token"]


def test_an_unknown_job_is_named_with_the_jobs_there_are(wf_env: dict[str, str]) -> None:
    env = {**wf_env, "GITHUB_API_URL": "http://127.0.0.1:9", "GITHUB_EVENT_NAME": "push"}
    result = run_action("pr-comment", {**GOOD, "needs": NEEDS,
                                       "allowed-skips": "e2e\nlint\nbuild"}, env)
    assert_one_bad_input(result, "allowed-skips", TOKEN)
    assert result.errors()[0].message == ("input 'allowed-skips': expected names of jobs in "
                                          "needs (build, e2e); not in needs, got 'lint'")


def test_the_gate_and_its_lists_are_read() -> None:
    made = settings({"needs": NEEDS, "gate": "true", "allowed-skips": '["e2e"]',
                     "allowed-failures": "build,\ne2e"})
    assert made.gate
    assert made.allowances.skips == frozenset({"e2e"})
    assert made.allowances.failures == frozenset({"build", "e2e"})
    assert not made.github.has_token  # no token: no error, nothing will be asked
    assert settings({"junit": "r/*.xml", "gate": "true"}).gate  # tests alone can be judged


@pytest.mark.parametrize("body", [
    "    indented code first\n\nthen text\n",  # leading spaces are Markdown: an indented block
    "${{ this is how our docs write an expression }}\n",  # not an unexpanded default
    "text\n\n",
])
def test_the_body_input_is_kept_exactly(body: str) -> None:
    assert settings({"github-token": TOKEN, "body": body}).body == body


def test_a_blank_body_is_no_body() -> None:
    assert settings({"github-token": TOKEN, "body": "  \n", "needs":
                     '{"a": {"result": "success"}}'}).body is None


def test_the_token_is_not_in_the_settings_repr() -> None:
    made = settings({"github-token": TOKEN, "body": "x"})
    assert TOKEN not in repr(made)
