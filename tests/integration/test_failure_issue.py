"""failure-issue end to end against the fake GitHub: the action runs as the runner runs
it (a subprocess, inputs as `toJSON(inputs)`), PyGithub unmodified, real HTTP. The runs,
their jobs, logs and commits are seeded on the fake; what is asserted is what the team
sees: the issues, their bodies and comments, the outputs, the summary, exit codes."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fake_github import FakeGitHub
from fake_github.fixtures import BOT, READONLY_TOKEN, REPO, WRITER_TOKEN
from fake_github.state import Issue
from stackci.incident.model import IssueKey
from stackci_testing.runner import Result, run_action, workflow_env

MARK = IssueKey(REPO, "CI", "main").marker
T0 = datetime(2024, 5, 1, tzinfo=UTC)
LOG = "\n".join(f"line {i}" for i in range(100)) + \
    f"\nFAILED tests/test_api.py::test_health\ntoken was {WRITER_TOKEN}\n1 failed"


def job(name: str, conclusion: str | None, steps: tuple[str, ...] = ("Checkout", "Test"),
        failed_step: str = "Test", log: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name, "status": "completed" if conclusion else "in_progress",
        "conclusion": conclusion,
        "steps": [{"name": s, "conclusion": ("failure" if s == failed_step and
                                             conclusion == "failure" else "success")}
                  for s in steps]}
    if log:
        spec["log"] = log
    return spec


def failing_jobs() -> list[dict[str, Any]]:
    return [job("build", "success"), job("test (3.11)", "failure", log=LOG),
            job("test (3.12)", "failure", log=LOG), job("report", None)]


def passing_jobs() -> list[dict[str, Any]]:
    return [job("build", "success"), job("test (3.11)", "success"),
            job("test (3.12)", "success"), job("report", None)]


@dataclass
class Pipeline:
    """A repository whose CI workflow runs on main, one run after another."""

    fake: FakeGitHub
    root: Path
    clock: datetime = T0
    runs: list[int] = field(default_factory=list)

    def commit(self, message: str = "Change things", author: str = "dev-a") -> str:
        self.clock += timedelta(minutes=5)
        return self.fake.state.push_commit(REPO, branch="main", at=self.clock,
                                           message=message, author=author).sha

    def past_run(self, conclusion: str, message: str = "Earlier change") -> int:
        """A finished run of an earlier commit."""
        sha = self.commit(message)
        run = self.fake.state.add_workflow_run(
            REPO, sha, name="CI", head_branch="main", event="push", status="completed",
            conclusion=conclusion, at=self.clock,
            jobs=[job("build", conclusion if conclusion != "skipped" else "skipped")])
        self.runs.append(run.id)
        return run.id

    def new_run(self, jobs: list[dict[str, Any]], message: str = "Speed up the cache",
                sha: str | None = None) -> int:
        """A run in progress (its reporting job running) of a new commit."""
        sha = sha or self.commit(message)
        self.clock += timedelta(minutes=1)
        run = self.fake.state.add_workflow_run(
            REPO, sha, name="CI", head_branch="main", event="push", status="in_progress",
            conclusion=None, at=self.clock, jobs=jobs)
        self.runs.append(run.id)
        return run.id

    def env(self, run_id: int, name: str = "runner", **extra: str) -> dict[str, str]:
        run = self.fake.state.repo(REPO).run(run_id)
        env = workflow_env(self.root / f"{name}-{run_id}-{run.run_attempt}", {
            "GITHUB_API_URL": self.fake.url, "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_EVENT_NAME": "push", "GITHUB_SHA": run.head_sha,
            "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main",
            "GITHUB_WORKFLOW": "CI", "GITHUB_JOB": "report", "GITHUB_ACTOR": "dev-a",
            "GITHUB_RUN_ID": str(run_id), "GITHUB_RUN_NUMBER": str(run.run_number),
            "GITHUB_RUN_ATTEMPT": str(run.run_attempt),
        })
        env.update(extra)
        return env

    def report(self, run_id: int, inputs: dict[str, str] | None = None,
               **env: str) -> Result:
        return run_action("failure-issue", {"github-token": WRITER_TOKEN, **(inputs or {})},
                          self.env(run_id, **env))

    def finish(self, run_id: int, conclusion: str) -> None:
        run = self.fake.state.repo(REPO).run(run_id)
        run.status, run.conclusion = "completed", conclusion

    def issues(self, state: str = "all") -> list[Issue]:
        return [i for i in self.fake.state.repo(REPO).issues.values()
                if i.user == BOT and (state == "all" or i.state == state)]

    def comments(self, number: int) -> list[str]:
        return [c.body for c in self.fake.state.comments(REPO, number)]


@pytest.fixture
def pipe(fake_github: FakeGitHub, tmp_path: Path) -> Pipeline:
    fake_github.state.push_commit(REPO, branch="main", at=T0, message="Initial")
    return Pipeline(fake_github, tmp_path)


def assert_no_token(result: Result) -> None:
    for line in (result.stdout + result.stderr).splitlines():
        assert WRITER_TOKEN not in line or line == f"::add-mask::{WRITER_TOKEN}", line
    assert WRITER_TOKEN not in json.dumps(result.outputs)
    assert WRITER_TOKEN not in result.summary


# -- the life of one issue --------------------------------------------------------------

def test_a_first_failure_opens_the_issue_with_what_broke(pipe: Pipeline) -> None:
    green = pipe.past_run("success", "Last good change")
    broke = pipe.past_run("failure", "Bump the cache library")
    run = pipe.new_run(failing_jobs(), "Speed up the cache")
    result = pipe.report(run)
    assert result.code == 0, result
    assert result.outputs["action"] == "created"
    assert result.outputs["status"] == "failure"
    [issue] = pipe.issues()
    assert result.outputs["issue-number"] == str(issue.number)
    assert issue.title == "CI failing: CI on main"
    assert issue.labels == ["bug"]
    body = issue.body or ""
    assert body.splitlines()[0] == MARK
    assert "| test (3.11) | Test | [log](" in body
    assert "| test (3.12) | Test | [log](" in body
    assert "FAILED tests/test\\_api.py" in body or "FAILED tests/test_api.py" in body
    assert WRITER_TOKEN not in body  # the log excerpt is redacted
    assert "### Broken since" in body
    runs = pipe.fake.state.repo(REPO)
    assert f"Last green: [run #{runs.run(green).run_number}]" in body
    assert f"first failing: [run #{runs.run(broke).run_number}]" in body
    since = body.split("### Broken since")[1].split("###")[0]
    assert "[Compare the changes](" in since
    assert "(2 commits):" in since
    listed = [line for line in since.splitlines() if line.startswith("- ")]
    assert [line.split(") ", 1)[1] for line in listed] == [
        "Bump the cache library (dev-a)", "Speed up the cache (dev-a)"]
    assert "| build | ✅ success |" in body
    assert "report" not in body.split("### All jobs")[1]  # the reporting job itself
    assert f"[#{issue.number}]" in result.summary
    assert_no_token(result)


def test_a_second_failing_run_comments_and_a_rerun_edits_that_comment(pipe: Pipeline) -> None:
    first = pipe.new_run(failing_jobs())
    assert pipe.report(first).code == 0
    pipe.finish(first, "failure")
    second = pipe.new_run(failing_jobs(), "Another try")
    result = pipe.report(second)
    assert result.outputs["action"] == "commented", result
    [issue] = pipe.issues()
    assert len(pipe.comments(issue.number)) == 1
    # Three re-runs of the failing run: one comment for it, edited.
    for _ in range(3):
        pipe.fake.state.add_run_attempt(REPO, second, jobs=failing_jobs(), status="in_progress",
                                        conclusion=None)
        rerun = pipe.report(second)
        assert rerun.code == 0, rerun
        assert rerun.outputs["action"] == "updated", rerun
    assert len(pipe.issues()) == 1
    comments = pipe.comments(issue.number)
    assert len(comments) == 1
    assert "(attempt 4)" in comments[0]


def test_a_rerun_of_the_run_that_opened_the_issue_edits_its_body(pipe: Pipeline) -> None:
    run = pipe.new_run(failing_jobs())
    assert pipe.report(run).outputs["action"] == "created"
    pipe.fake.state.add_run_attempt(REPO, run, jobs=failing_jobs(), status="in_progress",
                                    conclusion=None)
    rerun = pipe.report(run)
    assert rerun.outputs["action"] == "updated", rerun
    [issue] = pipe.issues()
    assert "(attempt 2)" in (issue.body or "")
    assert pipe.comments(issue.number) == []


def test_success_closes_and_a_failure_soon_after_reopens(pipe: Pipeline) -> None:
    failing = pipe.new_run(failing_jobs())
    pipe.report(failing)
    pipe.finish(failing, "failure")
    passing = pipe.new_run(passing_jobs(), "Fix the cache")
    result = pipe.report(passing)
    assert result.outputs["action"] == "closed", result
    assert result.outputs["status"] == "success"
    [issue] = pipe.issues()
    assert issue.state == "closed"
    number = pipe.fake.state.repo(REPO).run(passing).run_number
    assert f"Recovered in [run #{number}]" in pipe.comments(issue.number)[-1]
    pipe.finish(passing, "success")
    again = pipe.new_run(failing_jobs(), "Break it again")
    reopened = pipe.report(again)
    assert reopened.outputs["action"] == "reopened", reopened
    assert [i.state for i in pipe.issues()] == ["open"]
    assert "Reopened" in pipe.comments(issue.number)[-1]


def test_outside_the_reopen_window_a_new_issue_opens(pipe: Pipeline) -> None:
    failing = pipe.new_run(failing_jobs())
    pipe.report(failing)
    pipe.finish(failing, "failure")
    passing = pipe.new_run(passing_jobs())
    pipe.report(passing)
    pipe.finish(passing, "success")
    again = pipe.new_run(failing_jobs())
    result = pipe.report(again, {"reopen-window": "0s"})
    assert result.outputs["action"] == "created", result
    assert [i.state for i in pipe.issues()] == ["closed", "open"]


def test_thresholds_open_after_two_failures_and_close_after_two_successes(
        pipe: Pipeline) -> None:
    inputs = {"failures-before-open": "2", "successes-before-close": "2"}
    first = pipe.new_run(failing_jobs())
    result = pipe.report(first, inputs)
    assert result.outputs["action"] == "none", result
    assert "1 of 2 failing runs in a row" in result.summary
    assert pipe.issues() == []
    pipe.finish(first, "failure")
    second = pipe.new_run(failing_jobs())
    assert pipe.report(second, inputs).outputs["action"] == "created"
    [issue] = pipe.issues()
    assert "Opened after 2 failing runs in a row" in (issue.body or "")
    pipe.finish(second, "failure")
    third = pipe.new_run(passing_jobs())
    kept = pipe.report(third, inputs)
    assert kept.outputs["action"] == "none", kept
    assert issue.state == "open"
    pipe.finish(third, "success")
    fourth = pipe.new_run(passing_jobs())
    assert pipe.report(fourth, inputs).outputs["action"] == "closed"
    assert issue.state == "closed"


def test_a_cancelled_run_and_an_all_skipped_run_leave_the_issue_alone(pipe: Pipeline) -> None:
    failing = pipe.new_run(failing_jobs())
    pipe.report(failing)
    cancelled = pipe.new_run([job("build", "success"), job("test (3.11)", "cancelled"),
                              job("report", None)])
    result = pipe.report(cancelled)
    assert result.outputs["action"] == "none"
    assert result.outputs["status"] == "neutral"
    skipped = pipe.new_run([job("build", "skipped"), job("report", None)])
    assert pipe.report(skipped).outputs["status"] == "neutral"
    [issue] = pipe.issues()
    assert issue.state == "open"
    assert pipe.comments(issue.number) == []


def test_needs_decides_the_status(pipe: Pipeline) -> None:
    run = pipe.new_run(passing_jobs())
    result = pipe.report(run, {"needs": json.dumps({"build": {"result": "failure"}})})
    assert result.outputs["status"] == "failure", result
    assert result.outputs["action"] == "created"


def test_other_branches_do_not_count_by_default(pipe: Pipeline) -> None:
    run = pipe.new_run(failing_jobs())
    result = pipe.report(run, GITHUB_REF_NAME="feature/x", GITHUB_REF="refs/heads/feature/x")
    assert result.outputs["action"] == "none", result
    assert "is not one of `main`" in result.summary
    assert pipe.issues() == []
    counted = pipe.report(run, {"branches": "feature/*"}, GITHUB_REF_NAME="feature/x")
    assert counted.outputs["action"] == "created", counted


def test_a_fork_pull_request_never_opens_an_issue(pipe: Pipeline, tmp_path: Path) -> None:
    run = pipe.new_run(failing_jobs())
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 3, "head": {
        "ref": "main", "repo": {"full_name": "fork-user/app"}}}}))
    result = pipe.report(run, GITHUB_EVENT_NAME="pull_request", GITHUB_EVENT_PATH=str(event))
    assert result.code == 0, result
    assert result.outputs["action"] == "none"
    assert pipe.fake.requests(method="POST") == []


# -- grouping, matrix legs, concurrency ---------------------------------------------------

def test_by_job_one_issue_per_failed_job_with_its_legs_closed_when_it_passes(
        pipe: Pipeline) -> None:
    jobs = [job("lint", "failure", log="E501 line too long"), *failing_jobs()]
    run = pipe.new_run(jobs)
    result = pipe.report(run, {"group-by": "job"})
    assert result.code == 0, result
    titles = sorted(i.title for i in pipe.issues())
    assert titles == ["CI failing: CI / lint on main", "CI failing: CI / test on main"]
    test_issue = next(i for i in pipe.issues() if "/ test" in i.title)
    assert "test (3.11)" in (test_issue.body or "")
    assert "test (3.12)" in (test_issue.body or "")
    assert "| lint |" not in (test_issue.body or "").split("### All jobs")[0]
    pipe.finish(run, "failure")
    # lint passes, test still fails: only lint's issue closes.
    later = pipe.new_run([job("lint", "success"), *failing_jobs()])
    pipe.report(later, {"group-by": "job"})
    states = {i.title: i.state for i in pipe.issues()}
    assert states == {"CI failing: CI / lint on main": "closed",
                      "CI failing: CI / test on main": "open"}
    pipe.finish(later, "failure")
    green = pipe.new_run([*passing_jobs(), job("lint", "success")])
    pipe.report(green, {"group-by": "job"})
    assert {i.state for i in pipe.issues()} == {"closed"}


def test_two_runs_failing_at_once_converge_on_one_issue(pipe: Pipeline) -> None:
    first = pipe.new_run(failing_jobs())
    second = pipe.new_run(failing_jobs(), "Concurrent change")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(pipe.report, [first, second]))
    assert all(r.code == 0 for r in results), results
    open_ = pipe.issues("open")
    assert len(open_) == 1, [(i.number, i.state) for i in pipe.issues()]
    # Both runs are on it: one opened it, the other commented (or both converged).
    written = (open_[0].body or "") + "".join(pipe.comments(open_[0].number))
    for run in (first, second):
        number = pipe.fake.state.repo(REPO).run(run).run_number
        assert f"Run #{number}]" in written


# -- faults, permissions, dry-run, the deadline -------------------------------------------

@pytest.mark.parametrize("fault", ["5xx", "secondary", "primary", "applied"])
def test_faults_leave_one_issue_and_one_comment(pipe: Pipeline, fault: str) -> None:
    faults = pipe.fake.faults
    if fault == "5xx":
        faults.fail_next(3, status=502)
    elif fault == "secondary":
        faults.secondary_rate_limit(retry_after=1, count=2)
    elif fault == "primary":
        faults.exhaust_primary(reset_in=2)
    first = pipe.new_run(failing_jobs())
    if fault == "applied":
        faults.apply_then_fail(1, status=502, method="POST", path=r"/issues$")
    assert pipe.report(first).code == 0
    pipe.finish(first, "failure")
    second = pipe.new_run(failing_jobs())
    if fault == "applied":
        faults.apply_then_fail(1, status=502, method="POST", path=r"/comments$")
    result = pipe.report(second)
    assert result.code == 0, result
    assert len(pipe.issues("open")) == 1
    assert len(pipe.comments(pipe.issues("open")[0].number)) == 1


def test_a_read_only_token_writes_the_summary_and_warns(pipe: Pipeline) -> None:
    run = pipe.new_run(failing_jobs())
    result = run_action("failure-issue", {"github-token": READONLY_TOKEN}, pipe.env(run))
    assert result.code == 0, result
    warnings = [a.message for a in result.annotations if a.kind == "warning"]
    assert any("issues: write" in w for w in warnings), result
    assert "CI failing: CI on main" in result.summary
    assert pipe.issues() == []


def test_dry_run_writes_nothing(pipe: Pipeline) -> None:
    run = pipe.new_run(failing_jobs())
    result = pipe.report(run, {"dry-run": "true"})
    assert result.code == 0, result
    assert "Would open" in result.summary
    assert pipe.issues() == []
    assert [r for r in pipe.fake.requests() if r.method in ("POST", "PATCH")] == []


def test_a_server_that_stops_answering_ends_within_the_timeout(pipe: Pipeline) -> None:
    run = pipe.new_run(failing_jobs())
    pipe.fake.faults.slow(30, count=100)
    result = pipe.report(run, {"timeout": "5s"})
    assert result.code == 1, result
    assert pipe.issues() == []
    assert "Nothing was written to GitHub." in result.summary or \
        "could not read the run" in result.errors()[0].message


def test_a_marker_in_someone_elses_issue_is_ignored(pipe: Pipeline) -> None:
    spoof = pipe.fake.state.add_issue(REPO, "Spoof", f"{MARK}\nnot ours", user="mallory",
                                      labels=["bug"])
    run = pipe.new_run(failing_jobs())
    result = pipe.report(run)
    assert result.outputs["action"] == "created", result
    assert result.outputs["issue-number"] != str(spoof.number)
    assert pipe.comments(spoof.number) == []


def test_crafted_branch_and_commit_message_stay_inert(pipe: Pipeline) -> None:
    message = f"{MARK} @octo/team fixes #1 [x](https://evil.example) <img src=x>"
    run = pipe.new_run(failing_jobs(), message)
    branch = "main`@octo/devs`<b>"
    result = pipe.report(run, {"branches": "main*"}, GITHUB_REF_NAME=branch)
    assert result.code == 0, result
    [issue] = pipe.issues()
    body = issue.body or ""
    # Our two marker lines on top; the forged one is escaped text, never a comment.
    markers = [n for n, line in enumerate(body.splitlines()) if "<!-- stackci:" in line
               and "\\<!-- stackci:" not in line]
    assert markers == [0, 1]
    shown = "\n".join(body.splitlines()[2:])  # below the (unrendered) marker lines
    assert "@octo/team" not in shown
    assert "@octo/devs" not in shown.replace("`@octo/devs`", "")
    assert "<img" not in shown.replace("\\<img", "")
    assert "<b>" not in shown.replace("``main`@octo/devs`<b>``", "")  # a code span is inert
    assert "[x](https://evil.example)" not in shown
