"""pr-comment as the pipeline report and quality gate, end to end: the action runs as the
runner runs it (a subprocess, inputs as `toJSON(inputs)`), against the fake GitHub or
against no GitHub at all. Asserted is what users see: exit codes, outputs, the job
summary, the comment on the pull request, the annotations on stdout (parsed as the
runner parses workflow commands), and which requests GitHub got."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fake_github import FakeGitHub
from fake_github.fixtures import BOT, REPO, WRITER_TOKEN
from fake_github.state import Comment
from stackci.core.github.sticky import hidden_marker
from stackci_testing.runner import Result, run_action, workflow_env

DATA = Path(__file__).resolve().parents[1] / "data" / "pr-comment"
MARK = hidden_marker("pr-comment", "CI/report")
GREEN = {"build": {"result": "success", "outputs": {}},
         "unit": {"result": "success", "outputs": {}}}


# ----- reading the job log as the runner does ------------------------------------------------


@dataclass(frozen=True)
class Command:
    name: str
    props: dict[str, str]
    data: str


def commands(stdout: str) -> list[Command]:
    """Workflow commands as actions/runner parses them (ActionCommand.TryParseV2): a line
    starting `::`, up to the next `::`, properties split on `,` then the first `=`."""

    def unescape(text: str) -> str:
        return (text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":")
                .replace("%2C", ",").replace("%25", "%"))

    found = []
    for raw in stdout.split("\n"):
        line = raw.rstrip("\r")
        end = line.find("::", 2) if line.startswith("::") else -1
        if end < 0:
            continue
        name, _, props_text = line[2:end].partition(" ")
        props = {}
        for prop in filter(None, props_text.strip().split(",")):
            key, _, value = prop.partition("=")
            props[key] = unescape(value)
        found.append(Command(name, props, unescape(line[end + 2:])))
    return found


def errors(result: Result) -> list[Command]:
    return [c for c in commands(result.stdout) if c.name == "error"]


# ----- a run -----------------------------------------------------------------------------------


@dataclass
class Pipeline:
    """The reporting job of a pipeline: its workspace with result files, and a runner's
    environment for a push or a pull_request run."""

    root: Path
    api_url: str
    pr_number: int | None = None
    head_sha: str = "a" * 40

    def __post_init__(self) -> None:
        self.env = workflow_env(self.root / "runner", {
            "GITHUB_API_URL": self.api_url, "GITHUB_WORKFLOW": "CI", "GITHUB_JOB": "report",
            "GITHUB_RUN_NUMBER": "9", "GITHUB_EVENT_NAME": "push",
            "GITHUB_SHA": self.head_sha, "GITHUB_REF_NAME": "feature",
            "GITHUB_REF": "refs/heads/feature"})
        self.workspace = Path(self.env["GITHUB_WORKSPACE"])
        (self.workspace / "results").mkdir()
        if self.pr_number is not None:
            event = self.root / "event.json"
            event.write_text(json.dumps({
                "action": "synchronize", "number": self.pr_number,
                "pull_request": {"number": self.pr_number,
                                 "head": {"sha": self.head_sha, "ref": "feature"}}}))
            self.env.update({"GITHUB_EVENT_NAME": "pull_request",
                             "GITHUB_EVENT_PATH": str(event), "GITHUB_SHA": "f" * 40})

    def result_file(self, name: str, text: str | None = None) -> None:
        target = self.workspace / "results" / name
        if text is None:
            shutil.copy(DATA / name, target)
        else:
            target.write_text(text, encoding="utf-8")

    def run(self, inputs: dict[str, str], token: str = WRITER_TOKEN) -> Result:
        return run_action("pr-comment", {"github-token": token, **inputs}, self.env,
                          timeout=120)


@pytest.fixture
def silent_github() -> Iterator[tuple[str, socket.socket]]:
    """An address where a GitHub would be: a socket that listens and never answers, so a
    connection attempt would be seen (and would hang) rather than be refused quietly."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", listener


def assert_never_connected(listener: socket.socket) -> None:
    listener.setblocking(False)
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody in the backlog: no connection was ever made


@pytest.fixture
def pull(fake_github: FakeGitHub, tmp_path: Path) -> Pipeline:
    issue = fake_github.state.add_pull(REPO)
    assert issue.pull is not None
    return Pipeline(tmp_path, fake_github.url, issue.number, issue.pull.head_sha)


def ours(fake: FakeGitHub, number: int) -> list[Comment]:
    return [c for c in fake.state.comments(REPO, number) if c.user == BOT and MARK in c.body]


# ----- which event, which token ------------------------------------------------------------


def test_a_push_without_a_token_writes_the_summary_and_asks_github_nothing(
    tmp_path: Path, silent_github: tuple[str, socket.socket]
) -> None:
    url, listener = silent_github
    run = Pipeline(tmp_path, url)
    run.result_file("junit-failures.xml")
    run.result_file("coverage.xml")
    result = run.run({"needs": json.dumps(GREEN), "junit": "results/junit-*.xml",
                      "coverage": "results/coverage.xml"}, token="")
    assert result.code == 0, result
    assert_never_connected(listener)
    assert result.outputs == {"action": "skipped", "comment-id": "", "comment-url": "",
                              "verdict": "not-ready"}
    summary = result.summary
    assert summary.startswith("### 📋 Pipeline report\n\n<sub>Not posted as a comment: no "
                              "`github-token` was given.</sub>\n\n### ❌ Not green\n")
    assert "All 2 jobs succeeded. 4 tests failed (below)." in summary
    assert "| `unit` | ✅ success |" in summary
    assert "| 1 | 3 | 1 | 1 | 3.5 s |" in summary
    assert "<details><summary>❌ 4 failing tests</summary>" in summary
    assert "| Lines | 812 / 1,000 | 81.2% |" in summary
    assert "No github-token: GitHub was not asked" in result.stdout
    assert [e.props["title"] for e in errors(result)] == [
        "tests.test_api.test_status failed",
        "tests.test_api.test_`tick`s | pipes [link](http://evil.example) @octocat failed",
        "tests.test_db.test_migrate errored", "tests.test_db.test_seed failed"]
    assert not [c for c in commands(result.stdout) if c.name == "notice"]  # a push: a log line


def test_a_pull_request_without_a_token_says_the_comment_was_not_posted(
    tmp_path: Path, silent_github: tuple[str, socket.socket]
) -> None:
    url, listener = silent_github
    run = Pipeline(tmp_path, url, pr_number=7)
    result = run.run({"needs": json.dumps(GREEN), "gate": "true"}, token="")
    assert result.code == 0, result
    assert_never_connected(listener)
    [notice] = [c for c in commands(result.stdout) if c.name == "notice"]
    assert notice.data == ("No github-token: GitHub was not asked, and the report is in the "
                           "job summary only.")
    assert "### ✅ Ready to merge" in result.summary
    assert result.outputs["verdict"] == "ready"


def test_a_push_with_a_token_looks_up_the_pull_request_of_its_commit(pull: Pipeline,
                                                                     fake_github: FakeGitHub
                                                                     ) -> None:
    run = Pipeline(pull.root / "push", fake_github.url, head_sha=pull.head_sha)
    result = run.run({"needs": json.dumps(GREEN), "key": "CI/report"})
    assert result.code == 0, result
    assert fake_github.requests("GET", f"/repos/{REPO}/commits/{pull.head_sha}/pulls")
    assert result.outputs["action"] == "created"
    assert pull.pr_number is not None
    [comment] = ours(fake_github, pull.pr_number)
    assert "### ✅ All green" in comment.body  # a push's report, on the PR of its commit
    assert "💬 Created [the comment]" in result.summary


def test_a_pull_request_event_comments_on_the_payloads_number(pull: Pipeline,
                                                              fake_github: FakeGitHub) -> None:
    assert pull.pr_number is not None
    result = pull.run({"needs": json.dumps(GREEN), "key": "CI/report"})
    assert result.code == 0, result
    assert result.outputs["action"] == "created"
    [comment] = ours(fake_github, pull.pr_number)
    assert "### ✅ Ready to merge" in comment.body
    assert not fake_github.requests("GET", r"/repos/.*/commits/.*")  # no lookup needed
    assert f"on #{pull.pr_number}" in result.summary
    assert "### ✅ Ready to merge" in result.summary  # and the summary has the report


# ----- the gate ----------------------------------------------------------------------------


def needs_with(**results: str) -> str:
    return json.dumps({name: {"result": result, "outputs": {}}
                       for name, result in {"build": "success", **results}.items()})


def test_the_gate_passes_an_allowed_skip(pull: Pipeline, fake_github: FakeGitHub) -> None:
    result = pull.run({"needs": needs_with(e2e="skipped"), "gate": "true",
                       "allowed-skips": "e2e", "key": "CI/report"})
    assert result.code == 0, result
    assert result.outputs["verdict"] == "ready"
    assert pull.pr_number is not None
    [comment] = ours(fake_github, pull.pr_number)
    assert "### ✅ Ready to merge" in comment.body
    assert "| `e2e` | ⏭️ skipped (allowed to be skipped) |" in comment.body
    assert "Quality gate: green (Ready to merge)." in result.stdout
    assert errors(result) == []


def test_the_gate_fails_on_a_skip_not_allowed(pull: Pipeline, fake_github: FakeGitHub) -> None:
    result = pull.run({"needs": needs_with(e2e="skipped", docs="skipped"), "gate": "true",
                       "allowed-skips": "docs", "key": "CI/report"})
    assert result.code == 1, result
    assert result.outputs["verdict"] == "not-ready"
    [error] = errors(result)
    assert error.data == "Quality gate: not green: job e2e was skipped."
    assert error.props["title"] == "pr-comment failed"
    # The comment and the summary were written before the step failed.
    assert result.outputs["action"] == "created"
    assert pull.pr_number is not None
    [comment] = ours(fake_github, pull.pr_number)
    assert "### ❌ Not ready to merge" in comment.body
    assert "| `docs` | ⏭️ skipped (allowed to be skipped) |" in comment.body
    assert "### ❌ Not ready to merge" in result.summary
    assert "Quality gate: not green: job e2e was skipped." in result.summary


def test_the_gate_passes_an_allowed_failure(pull: Pipeline) -> None:
    result = pull.run({"needs": needs_with(nightly="failure", flaky="cancelled"),
                       "gate": "true", "allowed-failures": '["nightly", "flaky"]'})
    assert result.code == 0, result
    assert result.outputs["verdict"] == "ready"
    assert "| `nightly` | ❌ failure (allowed to fail) |" in result.summary
    assert "| `flaky` | 🚫 cancelled (allowed to fail) |" in result.summary


def test_the_gate_fails_on_a_failed_test_although_every_job_succeeded(
    tmp_path: Path, silent_github: tuple[str, socket.socket]
) -> None:
    run = Pipeline(tmp_path, silent_github[0])
    run.result_file("junit-green.xml")
    run.result_file("junit-one-failure.xml", '<testsuite name="app"><testcase name="ok"/>'
                    '<testcase classname="api" name="test_login"><failure message="401"/>'
                    "</testcase></testsuite>")
    result = run.run({"needs": json.dumps(GREEN), "junit": "results/*.xml", "gate": "true"},
                     token="")
    assert result.code == 1, result
    assert [e.data for e in errors(result)] == [
        "401", "Quality gate: not green: 1 test failed (api.test_login)."]
    assert result.outputs["verdict"] == "not-ready"
    assert "All 2 jobs succeeded. 1 test failed (below)." in result.summary


def test_without_the_gate_failed_tests_do_not_fail_the_step(tmp_path: Path) -> None:
    run = Pipeline(tmp_path, "http://127.0.0.1:9")
    run.result_file("junit-failures.xml")
    result = run.run({"junit": "results/*.xml"}, token="")
    assert result.code == 0, result
    assert result.outputs["verdict"] == "not-ready"
    assert len(errors(result)) == 4


# ----- annotations -------------------------------------------------------------------------


def test_annotations_are_capped_then_a_note_says_how_many_more(tmp_path: Path) -> None:
    run = Pipeline(tmp_path, "http://127.0.0.1:9")
    cases = "".join(f'<testcase classname="suite" name="test_{i:02d}">'
                    f'<failure message="boom {i}"/></testcase>' for i in range(23))
    run.result_file("junit-many.xml", f"<testsuite>{cases}</testsuite>")
    result = run.run({"junit": "results/*.xml", "gate": "true"}, token="")
    assert result.code == 1, result
    found = errors(result)
    # GitHub shows 10 error annotations per step: 9 tests, then the gate's own error.
    assert len(found) == 10
    assert [e.props["title"] for e in found[:9]] == [f"suite.test_{i:02d} failed"
                                                      for i in range(9)]
    assert found[9].data.startswith("Quality gate: not green: 23 tests failed (suite.test_00, ")
    [note] = [c for c in commands(result.stdout) if c.name == "notice"]
    assert note.props["title"] == "pr-comment: failed tests"
    assert note.data == (
        "14 more failed tests are not annotated (GitHub shows 10 error annotations per "
        f"step): all 23 are in the job summary ({_run_url(run)}).")
    assert "<details><summary>❌ 23 failing tests</summary>" in result.summary


def _run_url(run: Pipeline) -> str:
    return f"https://github.com/{REPO}/actions/runs/{run.env['GITHUB_RUN_ID']}"


def test_annotations_are_placed_on_the_file_and_line_that_failed(tmp_path: Path) -> None:
    run = Pipeline(tmp_path, "http://127.0.0.1:9")
    (run.workspace / "tests").mkdir()
    shutil.copy(DATA / "pytest-xunit1" / "test_x.py.txt", run.workspace / "tests" / "test_x.py")
    run.result_file("junit.xml", (DATA / "pytest-xunit1" / "junit.xml").read_text())
    result = run.run({"junit": "results/*.xml"}, token="")
    assert result.code == 0, result
    assert [(e.props["title"], e.props.get("file"), e.props.get("line"))
            for e in errors(result)] == [
        ("tests.test_x.test_a failed", "tests/test_x.py", "15"),
        ("tests.test_x.TestK.test_b failed", "tests/test_x.py", "20"),
        ("tests.test_x.test_setup errored", "tests/test_x.py", "6")]
    [first] = errors(result)[:1]
    assert first.data.startswith("assert 1 == 2\n\ndef test_a():")


def test_hostile_test_names_and_messages_issue_no_command(tmp_path: Path) -> None:
    run = Pipeline(tmp_path, "http://127.0.0.1:9")
    (run.workspace / "tests").mkdir()
    (run.workspace / "tests" / "a,b.py").write_text("")
    hostile = [
        ("x::error::pwned&#10;::add-mask::secret", "%0A::warning::pre-escaped"),
        ("name,file=evil.py,line=1", "line&#10;::error file=evil.py::injected&#13;::notice::cr"),
        ("::stop-commands::tok", "::endgroup::&#10;##[error]old&#10;::set-output name=a::b"),
    ]
    cases = "".join(f'<testcase classname="c" name="{name}" file="tests/a,b.py" line="3">'
                    f'<failure message="{message}">{message}</failure></testcase>'
                    for name, message in hostile)
    run.result_file("junit-hostile.xml", f"<testsuite>{cases}</testsuite>")
    result = run.run({"junit": "results/*.xml"}, token="")
    assert result.code == 0, result
    found = commands(result.stdout)
    # Only what pr-comment itself says: three test annotations, nothing from their text.
    assert [c.name for c in found] == ["error", "error", "error"], found
    place = {"file": "tests/a,b.py", "line": "3"}
    assert [c.props for c in found] == [
        {**place, "title": "c.x::error::pwned ::add-mask::secret failed"},
        {**place, "title": "c.name,file=evil.py,line=1 failed"},
        {**place, "title": "c.::stop-commands::tok failed"}]
    assert found[1].data == "line\n::error file=evil.py::injected\n::notice::cr"
    assert found[0].data == "%0A::warning::pre-escaped"
    for line in result.stdout.splitlines():  # no line but ours is a command
        assert not line.startswith("::") or line.startswith("::error file=tests/a%2Cb.py,")
