"""pr-comment end to end against the fake GitHub: the action runs as the runner runs it
(a subprocess, inputs as `toJSON(inputs)`), PyGithub unmodified, real HTTP. What is
asserted is what users see: exit codes, outputs, annotations, the job summary and the
comments on the pull request; plus the request log for economy and no double writes."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fake_github import FakeGitHub
from fake_github.fixtures import BOT, FORK_USER, READONLY_TOKEN, REPO, WRITER_TOKEN
from fake_github.state import Comment
from stackci.core.github.sticky import MAX_COMMENT_CHARS, hidden_marker
from stackci_testing.runner import Result, run_action, workflow_env

DATA = Path(__file__).resolve().parents[1] / "data" / "pr-comment"
KEY = "CI/summary"
MARK = hidden_marker("pr-comment", KEY)
T0 = datetime(2024, 5, 1, tzinfo=UTC)


@dataclass
class PullRequestRun:
    """A PR on the fake, and a runner-like environment for a `pull_request` run on it."""

    fake: FakeGitHub
    number: int
    head_sha: str
    root: Path

    def env(self, name: str = "runner", **extra: str) -> dict[str, str]:
        event = self.root / f"event-{name}.json"
        event.write_text(json.dumps({
            "action": "synchronize", "number": self.number,
            "pull_request": {"number": self.number,
                             "head": {"sha": self.head_sha, "ref": "feature"}},
        }))
        env = workflow_env(self.root / name, {
            "GITHUB_API_URL": self.fake.url, "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event), "GITHUB_SHA": "f" * 40,
            "GITHUB_WORKFLOW": "CI", "GITHUB_JOB": "summary", "GITHUB_RUN_NUMBER": "7",
        })
        env.update(extra)
        return env

    def run(self, inputs: dict[str, str], env: dict[str, str] | None = None) -> Result:
        return run_action("pr-comment", {"github-token": WRITER_TOKEN, **inputs},
                          env if env is not None else self.env())

    def comments(self) -> list[Comment]:
        return self.fake.state.comments(REPO, self.number)

    def ours(self) -> list[Comment]:
        return [c for c in self.comments() if c.user == BOT and MARK in c.body]

    def writes(self, method: str) -> int:
        """Writes that reached the state (faulted attempts excluded)."""
        return sum(1 for r in self.fake.requests(method=method) if r.fault is None
                   and r.status < 300)


@pytest.fixture
def pr(fake_github: FakeGitHub, tmp_path: Path) -> PullRequestRun:
    issue = fake_github.state.add_pull(REPO, at=T0)
    assert issue.pull is not None
    return PullRequestRun(fake_github, issue.number, issue.pull.head_sha, tmp_path)


def assert_no_token(result: Result, token: str = WRITER_TOKEN) -> None:
    """The token appears only where the runner must see it to mask it."""
    for line in (result.stdout + result.stderr).splitlines():
        assert token not in line or line == f"::add-mask::{token}", line
    assert token not in json.dumps(result.outputs)
    assert token not in result.summary


# ----- upsert ------------------------------------------------------------------------------


def test_create_then_three_reruns_leave_exactly_one_comment(pr: PullRequestRun) -> None:
    first = pr.run({"body": "Preview is up."})
    assert first.code == 0, first
    assert first.outputs["action"] == "created"
    [comment] = pr.ours()
    assert first.outputs["comment-id"] == str(comment.id)
    assert first.outputs["comment-url"].endswith(f"/pull/{pr.number}#issuecomment-{comment.id}")
    assert comment.body.startswith(MARK + "\nPreview is up.")
    assert_no_token(first)
    for attempt in ("2", "3", "4"):  # "Re-run job": same run, next attempt
        again = pr.run({"body": "Preview is up."}, pr.env(GITHUB_RUN_ATTEMPT=attempt))
        assert again.code == 0, again
        assert again.outputs["action"] == "updated"
        assert again.outputs["comment-id"] == str(comment.id)
    assert [c.id for c in pr.comments()] == [comment.id]
    assert "/attempts/4) of CI" in pr.comments()[0].body
    assert (pr.writes("POST"), pr.writes("PATCH")) == (1, 3)


def test_an_unchanged_comment_is_not_written_again(pr: PullRequestRun) -> None:
    env = pr.env()
    assert pr.run({"body": "same"}, env).outputs["action"] == "created"
    again = pr.run({"body": "same"}, env)
    assert again.outputs["action"] == "updated"
    assert "already up to date" in again.stdout
    assert (pr.writes("POST"), pr.writes("PATCH")) == (1, 0)


def test_the_pipeline_report_from_needs_junit_and_coverage(pr: PullRequestRun) -> None:
    env = pr.env()
    results = Path(env["GITHUB_WORKSPACE"]) / "results"
    shutil.copytree(DATA, results)
    needs = {"build": {"result": "success", "outputs": {}},
             "integration": {"result": "failure", "outputs": {}}}
    result = pr.run({"needs": json.dumps(needs), "junit": "results/junit-*.xml",
                     "coverage": "results/coverage.xml\nresults/nothing-*.xml"}, env)
    assert result.code == 0, result
    [comment] = pr.ours()
    body = comment.body
    assert "### ❌ Not ready to merge" in body
    assert "| `integration` | ❌ failure |" in body
    assert "| 9 | 3 | 1 | 2 | 46 s |" in body  # green + more + failures
    assert "<details><summary>❌ 4 failing tests</summary>" in body
    assert "| Lines | 812 / 1,000 | 81.2% |" in body
    assert "No file matched `results/nothing-*.xml`" in body
    assert f"commit {pr.head_sha[:7]}" in body  # the PR's head, not the merge commit
    warnings = [a.message for a in result.annotations if a.kind == "warning"]
    assert any("results/nothing-*.xml" in w for w in warnings)
    # The job summary has the whole comment too (without the hidden marker).
    assert "### ❌ Not ready to merge" in result.summary
    assert MARK not in result.summary
    assert_no_token(result)


def test_a_comment_by_someone_else_with_our_marker_is_left_alone(pr: PullRequestRun) -> None:
    pasted = pr.fake.state.add_comment(REPO, pr.number, f"{MARK}\nI pasted this", user="mallory")
    result = pr.run({"body": "ours"})
    assert result.code == 0
    assert result.outputs["action"] == "created"
    assert result.outputs["comment-id"] != str(pasted.id)
    assert pr.fake.state.repo(REPO).comment(pasted.id).body == f"{MARK}\nI pasted this"
    assert pr.writes("PATCH") == 0
    assert pr.writes("DELETE") == 0


def test_keys_keep_separate_comments(pr: PullRequestRun) -> None:
    assert pr.run({"body": "unit", "key": "unit"}).outputs["action"] == "created"
    assert pr.run({"body": "e2e", "key": "e2e"}).outputs["action"] == "created"
    assert pr.run({"body": "unit 2", "key": "unit"}).outputs["action"] == "updated"
    assert sorted(c.body.split("\n")[1] for c in pr.comments()) == ["e2e", "unit 2"]


# ----- economy and concurrency -------------------------------------------------------------


def test_a_thousand_comments_cost_at_most_twelve_requests(pr: PullRequestRun) -> None:
    state = pr.fake.state
    for i in range(1_000):
        at = T0 + timedelta(minutes=i)
        if i == 750:  # ours, on page 8: anchors reading one page post a duplicate
            ours = state.add_comment(REPO, pr.number, f"{MARK}\nold", user=BOT, at=at)
        else:
            state.add_comment(REPO, pr.number, f"comment {i}", user=f"user{i % 7}", at=at)
    pr.fake.reset_log()
    result = pr.run({"body": "new"})
    assert result.code == 0, result
    assert result.outputs == {"action": "updated", "comment-id": str(ours.id),
                              "comment-url": result.outputs["comment-url"], "verdict": ""}
    log = pr.fake.requests()
    assert len(log) <= 12, [(r.method, r.path, r.query) for r in log]
    assert [r.method for r in log].count("GET") == 11  # the user, then 10 pages of 100
    assert [(r.method, r.path) for r in log if r.method != "GET"] == [
        ("PATCH", f"/repos/{REPO}/issues/comments/{ours.id}")]
    assert len(pr.comments()) == 1_000


def test_two_jobs_upserting_at_once_end_with_one_comment(pr: PullRequestRun) -> None:
    # Both jobs list (no comment yet) before either POST lands: the race, made certain.
    pr.fake.slow(3.0, count=2, method="POST")
    envs = [pr.env("job-a"), pr.env("job-b")]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda p: pr.run({"body": p[0]}, p[1]),
                                [("from A", envs[0]), ("from B", envs[1])]))
    assert [r.code for r in results] == [0, 0], results
    assert pr.writes("POST") == 2  # both created ...
    [survivor] = pr.ours()  # ... and one remains
    assert {r.outputs["comment-id"] for r in results} == {str(survivor.id)}
    assert sorted(r.outputs["action"] for r in results) == ["created", "updated"]
    assert survivor.body.split("\n")[1] in ("from A", "from B")


# ----- faults ------------------------------------------------------------------------------

Inject = Callable[[FakeGitHub], object]
FAULTS: list[tuple[str, Inject, float]] = [
    ("two-502-on-the-first-read", lambda f: f.fail_next(2, 502), 0),
    ("two-502-on-the-write", lambda f: f.fail_next(2, 502, method="write"), 0),
    ("secondary-limit-on-the-write", lambda f: f.secondary_rate_limit(2, method="write"), 2),
    ("primary-limit-exhausted", lambda f: f.exhaust_primary(3), 3),
]


@pytest.mark.parametrize(("inject", "waits"), [(i, w) for _, i, w in FAULTS],
                         ids=[n for n, _, _ in FAULTS])
@pytest.mark.parametrize("existing", [False, True], ids=["create", "update"])
def test_faults_are_survived_without_a_second_write(
    pr: PullRequestRun, inject: Inject, waits: float, existing: bool
) -> None:
    if existing:
        pr.fake.state.add_comment(REPO, pr.number, f"{MARK}\nold", user=BOT, at=T0)
    inject(pr.fake)
    started = time.monotonic()
    result = pr.run({"body": "after the storm"})
    elapsed = time.monotonic() - started
    assert result.code == 0, result
    assert result.outputs["action"] == ("updated" if existing else "created")
    [comment] = pr.comments()
    assert comment.body.startswith(f"{MARK}\nafter the storm")
    writes = (pr.writes("POST"), pr.writes("PATCH"), pr.writes("DELETE"))
    assert writes == ((0, 1, 0) if existing else (1, 0, 0))
    assert any(r.fault is not None for r in pr.fake.requests())  # the fault did happen
    assert elapsed >= waits  # it waited as GitHub asked, rather than hammering
    assert_no_token(result)


def test_an_unknown_token_fails_clearly_without_showing_it(pr: PullRequestRun) -> None:
    result = pr.run({"body": "x", "github-token": "ghs_nobody_knows_me"})
    assert result.code == 2, result
    [error] = result.errors()
    assert error.message.startswith("input 'github-token': expected a token GitHub accepts")
    assert "Traceback" not in result.stdout + result.stderr
    assert_no_token(result, "ghs_nobody_knows_me")


def test_a_pull_request_that_does_not_exist(pr: PullRequestRun) -> None:
    result = pr.run({"body": "x", "pr-number": "999"})
    assert result.code == 1, result
    assert result.errors()[0].message.startswith("not found")


# ----- forks, no PR, push ------------------------------------------------------------------


def test_a_read_only_token_writes_the_summary_instead(pr: PullRequestRun) -> None:
    result = pr.run({"body": "from a fork", "github-token": READONLY_TOKEN})
    assert result.code == 0, result
    assert result.outputs == {"action": "skipped", "comment-id": "", "comment-url": "",
                              "verdict": ""}
    [warning] = [a for a in result.annotations if a.kind == "warning"]
    assert "read-only token" in warning.message
    assert "`workflow_run`" in warning.message
    assert "never use `pull_request_target` with a checkout" in warning.message
    assert "not posted: the token is read-only" in result.summary
    assert "from a fork" in result.summary
    assert pr.comments() == []
    assert_no_token(result, READONLY_TOKEN)


def test_a_read_only_token_can_be_made_to_fail(pr: PullRequestRun) -> None:
    result = pr.run({"body": "x", "github-token": READONLY_TOKEN, "fail-on-read-only": "true"})
    assert result.code == 1, result
    assert "fail-on-read-only is true" in result.errors()[0].message
    assert "not posted: the token is read-only" in result.summary


def test_no_pull_request_is_a_notice_and_a_skip(pr: PullRequestRun) -> None:
    env = pr.env(GITHUB_EVENT_NAME="push", GITHUB_SHA="0" * 40, GITHUB_EVENT_PATH="")
    result = pr.run({"body": "nobody reads this"}, env)
    assert result.code == 0, result
    assert result.outputs["action"] == "skipped"
    [notice] = [a for a in result.annotations if a.kind == "notice"]
    assert notice.message == ("No pull request for this run: no open pull request has the "
                              "pushed commit 0000000 as its head; nothing to comment on.")
    assert "nobody reads this" in result.summary
    assert pr.fake.requests(method="POST") == []


def test_a_push_comments_on_the_open_pr_of_its_commit(pr: PullRequestRun) -> None:
    env = pr.env(GITHUB_EVENT_NAME="push", GITHUB_SHA=pr.head_sha, GITHUB_EVENT_PATH="",
                 GITHUB_REF_NAME="feature")
    result = pr.run({"body": "pushed"}, env)
    assert result.code == 0, result
    assert result.outputs["action"] == "created"
    assert [c.body.split("\n")[1] for c in pr.ours()] == ["pushed"]


# ----- long bodies and modes ---------------------------------------------------------------


def test_a_long_body_is_cut_and_the_summary_has_it_all(pr: PullRequestRun) -> None:
    env = pr.env()
    lines = "".join(f"{i:06d} some log output\n" for i in range(5_000))  # ~110 k
    (Path(env["GITHUB_WORKSPACE"]) / "report.md").write_text(
        f"## Log\n\n```text\n{lines}THE LAST LINE\n```\n")
    result = pr.run({"body-file": "report.md"}, env)
    assert result.code == 0, result
    [comment] = pr.ours()
    assert len(comment.body) <= MAX_COMMENT_CHARS
    assert "THE LAST LINE" not in comment.body
    assert "THE LAST LINE" in result.summary
    assert comment.body.rstrip().endswith(
        "The full text is in the [job summary]"
        f"({env.get('GITHUB_SERVER_URL', 'https://github.com')}"
        f"/{REPO}/actions/runs/{env['GITHUB_RUN_ID']}).")
    assert comment.body.count("```") % 2 == 0  # the fence was closed
    # What was kept is the start of the comment, cut after a whole line, then the
    # closing fence and the note.
    body = comment.body.removeprefix(f"{MARK}\n")
    kept, fence, note = body.rpartition("\n```\n")
    assert fence
    assert "cut at GitHub's 65,536-character limit" in note
    kept += "\n"
    full = f"## Log\n\n```text\n{lines}THE LAST LINE\n```\n"
    assert full.startswith(kept)
    assert kept.endswith(" some log output\n")
    assert len(kept) > MAX_COMMENT_CHARS - 1_000  # it used the room


def test_recreate_append_and_delete(pr: PullRequestRun) -> None:
    first = pr.run({"body": "one"})
    pr.fake.state.add_comment(REPO, pr.number, "a reply", user="octocat")
    recreated = pr.run({"body": "two", "mode": "recreate"})
    assert recreated.outputs["action"] == "created"
    assert recreated.outputs["comment-id"] != first.outputs["comment-id"]
    assert [c.user for c in pr.comments()] == ["octocat", BOT]  # now at the bottom
    appended = pr.run({"body": "three", "mode": "append"})
    assert appended.outputs["action"] == "updated"
    [comment] = pr.ours()
    assert comment.body.index("two") < comment.body.index("three")
    deleted = pr.run({"mode": "delete"})
    assert deleted.code == 0
    assert deleted.outputs == {
        "action": "deleted", "comment-id": "", "comment-url": "", "verdict": ""}
    assert [c.user for c in pr.comments()] == ["octocat"]
    again = pr.run({"mode": "delete"})
    assert again.code == 0
    assert again.outputs["action"] == "skipped"
    assert "nothing to delete" in again.annotations[0].message


def test_a_comment_on_a_plain_issue_is_not_a_pull_request(pr: PullRequestRun) -> None:
    """`issue_comment` fires for plain issues too; their number is not a PR's, and the
    run's commit (the default branch's) says nothing about one."""
    issue = pr.fake.state.add_issue(REPO, "A plain issue")
    event = pr.root / "issue-event.json"
    event.write_text(json.dumps({"action": "created", "issue": {"number": issue.number},
                                 "comment": {"id": 1, "body": "/report"}}))
    env = pr.env(GITHUB_EVENT_NAME="issue_comment", GITHUB_EVENT_PATH=str(event),
                 GITHUB_SHA=pr.head_sha)  # even a commit that is a PR's head
    result = pr.run({"body": "nobody reads this"}, env)
    assert result.code == 0, result
    assert result.outputs["action"] == "skipped"
    assert pr.fake.state.comments(REPO, issue.number) == []
    assert pr.comments() == []
    assert pr.fake.requests(method="POST") == []


@pytest.mark.parametrize("mode", ["upsert", "recreate"])
def test_a_write_applied_whose_answer_was_lost_leaves_one_comment(
    pr: PullRequestRun, mode: str
) -> None:
    """GitHub created the comment but the answer was a 502: the retried POST creates a
    second one. The look after creating removes it, and the run says `created`."""
    if mode == "recreate":
        pr.fake.state.add_comment(REPO, pr.number, f"{MARK}\nold", user=BOT, at=T0)
        pr.fake.apply_then_fail(1, 502, method="DELETE")  # the old one's delete, too
    pr.fake.apply_then_fail(1, 502, method="POST")
    result = pr.run({"body": "exactly once", "mode": mode})
    assert result.code == 0, result
    assert [(r.status, r.fault) for r in pr.fake.requests("POST")] == [
        (502, "applied"), (201, None)]
    [comment] = pr.comments()
    assert comment.body.startswith(f"{MARK}\nexactly once")
    assert result.outputs["action"] == "created"
    assert result.outputs["comment-id"] == str(comment.id)
    assert result.errors() == []


def test_result_files_with_hostile_numbers_are_warnings_not_a_crash(pr: PullRequestRun) -> None:
    env = pr.env()
    results = Path(env["GITHUB_WORKSPACE"]) / "results"
    results.mkdir()
    (results / "cov.xml").write_text('<coverage lines-covered="²" lines-valid="3"/>')
    (results / "big.xml").write_text(f'<coverage lines-covered="{"9" * 5000}" '
                                     f'lines-valid="{"9" * 5000}"/>')
    for name in ("a", "b"):
        (results / f"junit-{name}.xml").write_text(
            '<testsuite time="1e308"><testcase name="t" time="1e308"/></testsuite>')
    result = pr.run({"junit": "results/junit-*.xml", "coverage": "results/*.xml"}, env)
    assert result.code == 0, result
    assert result.outputs["action"] == "created"
    warnings = [a.message for a in result.annotations if a.kind == "warning"]
    assert any(w.startswith("results/cov.xml is not usable Cobertura XML") for w in warnings)
    assert any(w.startswith("results/big.xml is not usable Cobertura XML") for w in warnings)
    [comment] = pr.ours()
    assert "| 2 | 0 | 0 | 0 |" in comment.body  # both tests counted, time not a number


def test_a_delete_with_a_read_only_token_does_not_claim_a_summary(pr: PullRequestRun) -> None:
    # The workflow token of a fork's run is the same bot, read-only.
    pr.fake.state.add_comment(REPO, pr.number, f"{MARK}\nold", user=FORK_USER, at=T0)
    result = pr.run({"mode": "delete", "github-token": READONLY_TOKEN})
    assert result.code == 0, result
    assert result.outputs["action"] == "skipped"
    [warning] = [a.message for a in result.annotations if a.kind == "warning"]
    assert "written to this job's summary" not in warning
    assert "was left as it is" in warning
    assert len(pr.comments()) == 1


def test_a_body_too_long_for_the_summary_too_says_so(pr: PullRequestRun) -> None:
    """The job summary holds 1 MiB; a body file may be larger (up to 4 MiB): then the
    note must not promise the full text there."""
    env = pr.env()
    lines = "".join(f"{i:07d} {'x' * 40}\n" for i in range(30_000))  # ~1.4 MB
    (Path(env["GITHUB_WORKSPACE"]) / "report.md").write_text(lines)
    result = pr.run({"body-file": "report.md"}, env)
    assert result.code == 0, result
    [comment] = pr.ours()
    assert "The full text is in" not in comment.body
    assert "too long for the job summary as well" in comment.body
    assert len(result.summary.encode()) <= 1024 * 1024


def test_comment_author_for_an_app_token_finds_its_comment(pr: PullRequestRun) -> None:
    """A GitHub App's token cannot ask GET /user who it is. Told its login, pr-comment
    finds its own comment and edits it: no guess, no new comment, no delete."""
    old = pr.fake.state.add_comment(REPO, pr.number, f"{MARK}\nold", user=BOT, at=T0)
    pr.fake.fail_next(5, 403, path=r"^/user$", message="Resource not accessible by integration")
    result = pr.run({"body": "new", "comment-author": BOT})
    assert result.code == 0, result
    assert (result.outputs["action"], result.outputs["comment-id"]) == ("updated", str(old.id))
    assert [(r.method, r.path) for r in pr.fake.requests() if r.method != "GET"] == [
        ("PATCH", f"/repos/{REPO}/issues/comments/{old.id}")]
    assert not pr.fake.requests("GET", "/user")


def test_no_pull_request_is_explained_as_label_gate_explains_it(pr: PullRequestRun) -> None:
    """The notice says why there is no PR, in the session's words (label-gate's)."""
    issue = pr.fake.state.add_issue(REPO, "A plain issue")
    event = pr.root / "issue-event.json"
    event.write_text(json.dumps({"action": "created", "issue": {"number": issue.number}}))
    env = pr.env(GITHUB_EVENT_NAME="issue_comment", GITHUB_EVENT_PATH=str(event))
    result = pr.run({"body": "x"}, env)
    assert result.code == 0, result
    [notice] = [a.message for a in result.annotations if a.kind == "notice"]
    assert notice == (f"No pull request for this run: #{issue.number} of this issue_comment "
                      "run is an issue, not a pull request; nothing to comment on.")
