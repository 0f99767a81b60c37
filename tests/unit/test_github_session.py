"""The GitHub session every GitHub action shares (`stackci.core.github.session`): its
inputs, the one mapping of API errors to messages and exit codes, the pull request with
why there is none, and the deadline no retry or wait of PyGithub's passes. Against the
fake GitHub (real HTTP, PyGithub unmodified) where the server's behaviour matters."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from github import GithubException
from github.GithubException import BadCredentialsException, RateLimitExceededExceedsMaxWait

from fake_github import FakeGitHub
from fake_github.fixtures import BOT, READONLY_TOKEN, REPO, WRITER_TOKEN
from stackci.core.github.errors import (
    DeadlinePassed,
    ReadOnlyToken,
    describe_api_error,
    explain,
)
from stackci.core.github.session import (
    ISSUES,
    PR_COMMENTS,
    GitHubSession,
    GitHubSettings,
)
from stackci.core.github.sticky import hidden_marker
from stackci.core.runner.context import RunContext
from stackci.core.runner.deadline import Deadline
from stackci.core.runner.errors import ActionFailed, BadInputs
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.manifest import load_manifest
from stackci.core.runner.workflow import Workflow

# ----- the inputs ----------------------------------------------------------------------------


def read(raw: dict[str, str], action: str = "pr-comment", **options: bool) -> tuple[
        GitHubSettings, InputReader]:
    reader = InputReader(raw, load_manifest(action))
    return GitHubSettings.from_inputs(reader, purpose="may write comments", **options), reader


def test_the_token_is_a_secret_and_the_author_is_read() -> None:
    settings, reader = read({"github-token": "ghs_secret_value", "comment-author": "app[bot]"})
    assert (settings.token, settings.comment_author) == ("ghs_secret_value", "app[bot]")
    assert reader.secrets == ["ghs_secret_value"]  # masked the moment it is read
    assert "ghs_secret_value" not in repr(settings)
    assert reader.errors == []


def test_an_empty_token_is_a_bad_input_saying_what_it_is_for() -> None:
    _, reader = read({"github-token": ""})
    [error] = reader.errors
    assert error.message() == ("input 'github-token': expected a token that may write comments "
                               "(it was empty; the default is the workflow's own token)")


def test_an_action_without_comment_author_does_not_read_it() -> None:
    settings, reader = read({"github-token": "ghs_x"}, action="doctor", author_input=False)
    assert settings.comment_author == ""
    assert reader.read == {"github-token"}


# ----- the error mapping ----------------------------------------------------------------------

API = "https://ghe.example/api/v3"
TABLE: list[tuple[str, BaseException, str, int, str]] = [
    ("401", BadCredentialsException(401, {"message": "Bad credentials"}), "bad-token", 2,
     "GitHub refused the token (is it valid, and not expired?) (HTTP 401: Bad credentials)"),
    ("401 as a plain exception", GithubException(401, {"message": "Requires authentication"}),
     "bad-token", 2, "GitHub refused the token (is it valid, and not expired?) (HTTP 401: "
     "Requires authentication)"),
    ("a write refused to a read-only token", ReadOnlyToken(), "read-only", 1,
     "the token is read-only: it lacks `issues: write` (GitHub answered 403 'Resource not "
     "accessible by integration')"),
    ("another 403", GithubException(403, {"message": "Must have admin rights"}), "forbidden", 1,
     "the token may not do this (check the job's `permissions:`) (HTTP 403: Must have admin "
     "rights)"),
    ("a read refused to the token", GithubException(
        403, {"message": "Resource not accessible by integration"}), "forbidden", 1,
     "the token may not do this (check the job's `permissions:`) (HTTP 403: Resource not "
     "accessible by integration)"),
    ("404", GithubException(404, {"message": "Not Found"}), "not-found", 1,
     "not found: it does not exist, or the token cannot see it (HTTP 404: Not Found)"),
    ("422", GithubException(422, None), "refused", 1,
     "GitHub refused the request (HTTP 422: no message)"),
    ("a rate limit reset too far off", RateLimitExceededExceedsMaxWait(
        403, {"message": "API rate limit exceeded"}, wait=3600), "rate-limit", 1,
     "GitHub's rate limit resets in 3600 s, later than StackCI waits for it (HTTP 403: API "
     "rate limit exceeded)"),
    ("5xx after the retries", requests.exceptions.RetryError("Max retries: /user?token=ghs_x"),
     "server", 1, "GitHub kept answering with server errors (HTTP 5xx), also after retries"),
    ("connection refused", requests.exceptions.ConnectionError("refused"), "unreachable", 1,
     f"the GitHub API at {API} could not be reached (ConnectionError)"),
    ("a timeout", requests.exceptions.ReadTimeout("slow"), "unreachable", 1,
     f"the GitHub API at {API} could not be reached (ReadTimeout)"),
]


@pytest.mark.parametrize(("exc", "kind", "code", "message"), [t[1:] for t in TABLE],
                         ids=[t[0] for t in TABLE])
def test_the_error_mapping(exc: BaseException, kind: str, code: int, message: str) -> None:
    problem = explain(exc, API, ISSUES.permission)
    assert (problem.kind, problem.exit_code, problem.message) == (kind, code, message)
    assert describe_api_error(exc, API) == explain(exc, API).message
    assert (problem.input_error is not None) == (code == 2)


def test_a_rejected_token_names_the_input() -> None:
    problem = explain(BadCredentialsException(401, {"message": "Bad credentials"}))
    assert problem.input_error is not None
    assert problem.input_error.message() == (
        "input 'github-token': expected a token GitHub accepts (it answered 401 Bad credentials)")


def test_a_deadline_says_what_it_waited_for() -> None:
    clock = iter([0.0, 1.0, 1.0, 1.0]).__next__
    exc = DeadlinePassed(Deadline(3, clock=clock), "GitHub's rate limit (HTTP 403)", 600)
    problem = explain(exc)
    assert (problem.kind, problem.exit_code) == ("deadline", 1)
    assert problem.message == ("gave up on GitHub after 1 s: GitHub's rate limit (HTTP 403) "
                               "asks to wait 10 min, past the 3 s time budget")


# ----- against the fake -----------------------------------------------------------------------


def context(fake: FakeGitHub | None, tmp: Path, event: str = "push",
            payload: dict[str, object] | None = None, **env: str) -> RunContext:
    path = tmp / "event.json"
    path.write_text(json.dumps(payload or {}))
    return RunContext.from_env({
        "GITHUB_API_URL": fake.url if fake else "http://127.0.0.1:9",
        "GITHUB_REPOSITORY": REPO, "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(path),
        "GITHUB_SHA": "b" * 40, "GITHUB_ACTIONS": "true", **env})


def session(ctx: RunContext, token: str = WRITER_TOKEN, author: str = "",
            timeout: float | None = None, retries: int = 10) -> GitHubSession:
    return GitHubSession(GitHubSettings(token, author), ctx, writes=PR_COMMENTS,
                         timeout=timeout, retries=retries)


def fails(gh: GitHubSession, call: Callable[[], object], doing: str = "reading"
          ) -> BadInputs | ActionFailed:
    with pytest.raises((BadInputs, ActionFailed)) as caught, gh.failures(doing):
        call()
    assert isinstance(caught.value, BadInputs | ActionFailed)
    return caught.value


def test_a_rejected_token_is_a_bad_input(fake_github: FakeGitHub, tmp_path: Path) -> None:
    gh = session(context(fake_github, tmp_path), token="ghs_unknown")
    failed = fails(gh, lambda: gh.repo.get_pull(1).title)
    assert isinstance(failed, BadInputs)
    assert [e.name for e in failed.errors] == ["github-token"]


def test_a_404_fails_saying_what_was_done(fake_github: FakeGitHub, tmp_path: Path) -> None:
    gh = session(context(fake_github, tmp_path))
    failed = fails(gh, lambda: gh.repo.get_pull(99).title, "could not read the pull request")
    assert isinstance(failed, ActionFailed)
    assert str(failed) == ("could not read the pull request: not found: it does not exist, or "
                           "the token cannot see it (HTTP 404: Not Found)")


def test_5xx_after_the_retries(fake_github: FakeGitHub, tmp_path: Path) -> None:
    pr = fake_github.state.add_pull(REPO)
    fake_github.fail_next(10, 502)
    gh = session(context(fake_github, tmp_path), retries=2)
    failed = fails(gh, lambda: gh.repo.get_pull(pr.number).title)
    assert str(failed) == ("reading: GitHub kept answering with server errors (HTTP 5xx), "
                           "also after retries")
    assert [r.status for r in fake_github.requests()] == [502, 502, 502]


def test_a_refused_connection(tmp_path: Path) -> None:
    gh = session(context(None, tmp_path), retries=1)
    failed = fails(gh, lambda: gh.repo.get_pull(1).title)
    assert str(failed) == ("reading: the GitHub API at http://127.0.0.1:9 could not be "
                           "reached (ConnectionError)")


def test_a_then_sees_a_failure_but_not_a_bad_input(fake_github: FakeGitHub,
                                                   tmp_path: Path) -> None:
    seen: list[str] = []
    for token in (WRITER_TOKEN, "ghs_unknown"):
        gh = session(context(fake_github, tmp_path), token=token)
        with pytest.raises((ActionFailed, BadInputs)), gh.failures("x", then=seen.append):
            gh.repo.get_pull(99).title  # noqa: B018 - the read is the point
    assert seen == ["x: not found: it does not exist, or the token cannot see it (HTTP 404: "
                    "Not Found)"]


def test_a_read_only_token_warns_naming_the_permission(fake_github: FakeGitHub,
                                                       tmp_path: Path) -> None:
    pr = fake_github.state.add_pull(REPO)
    gh = session(context(fake_github, tmp_path), token=READONLY_TOKEN)
    out = io.StringIO()
    wf = Workflow({"GITHUB_ACTIONS": "true"}, out, io.StringIO())
    with gh.warnings(wf, "Could not comment", "The check stands.", title="t"):
        gh.sticky(pr.number, hidden_marker("test")).upsert("hello")
    [line] = out.getvalue().splitlines()
    assert line.startswith("::warning title=t::Could not comment: the token is read-only: it "
                           "lacks `pull-requests: write` (GitHub answered 403 'Resource not "
                           "accessible by integration'). The check stands. A `pull_request` "
                           "run from a fork gets a read-only token.")
    assert gh.read_only_warning("Could not comment", "The check stands.") in line
    assert fake_github.state.comments(REPO, pr.number) == []


def test_a_rejected_token_stays_a_bad_input_where_failures_are_warnings(
        fake_github: FakeGitHub, tmp_path: Path) -> None:
    gh = session(context(fake_github, tmp_path), token="ghs_unknown")
    wf = Workflow({}, io.StringIO(), io.StringIO())
    with pytest.raises(BadInputs), gh.warnings(wf, "Could not comment"):
        gh.sticky(1, hidden_marker("test")).upsert("hello")


def test_no_repository(tmp_path: Path) -> None:
    gh = session(context(None, tmp_path, GITHUB_REPOSITORY=""))
    failed = fails(gh, lambda: gh.repo)
    assert str(failed) == "GITHUB_REPOSITORY is not set: run in a workflow, or set it to owner/name"


# ----- the pull request and the author --------------------------------------------------------


def test_the_pull_request_of_a_push_and_why_there_is_none(fake_github: FakeGitHub,
                                                          tmp_path: Path) -> None:
    pr = fake_github.state.add_pull(REPO, head_ref="feature")
    assert pr.pull is not None
    found = session(context(fake_github, tmp_path, GITHUB_SHA=pr.pull.head_sha)).find_pull()
    assert (found.number, found.why_none) == (pr.number, "")
    none = session(context(fake_github, tmp_path, GITHUB_SHA="c" * 40)).find_pull()
    assert (none.number, none.why_none) == (
        None, "no open pull request has the pushed commit ccccccc as its head")
    given = session(context(fake_github, tmp_path)).find_pull(12)
    assert given.number == 12


@pytest.mark.parametrize(("event", "payload", "why"), [
    ("issue_comment", {"issue": {"number": 4}},
     "#4 of this issue_comment run is an issue, not a pull request"),
    ("merge_group", {"merge_group": {"head_ref": "refs/heads/main"}},
     "the merge queue ref ? names no pull request"),
    ("schedule", {}, "this schedule run is not about a pull request"),
])
def test_why_a_run_has_no_pull_request(fake_github: FakeGitHub, tmp_path: Path, event: str,
                                       payload: dict[str, object], why: str) -> None:
    found = session(context(fake_github, tmp_path, event, payload)).find_pull()
    assert (found.number, found.why_none) == (None, why)


def test_the_author(fake_github: FakeGitHub, tmp_path: Path) -> None:
    ctx = context(fake_github, tmp_path)
    assert session(ctx, author="app[bot]").author() == "app[bot]"
    assert not fake_github.requests()  # told: not asked
    gh = session(ctx)
    assert (gh.author(), gh.author()) == (BOT, BOT)
    assert len(fake_github.requests("GET", "/user")) == 1  # asked once
    fake_github.fail_next(1, 403, path="^/user$", message="Resource not accessible by integration")
    assert session(ctx).author() == "github-actions[bot]"  # the workflow token cannot ask


# ----- the deadline ---------------------------------------------------------------------------

BUDGET = 3.0
SLACK = 1.0  # for the request that is under way when the budget runs out


def timed(gh: GitHubSession, call: Callable[[], object]) -> tuple[str, float]:
    started = time.monotonic()
    failed = fails(gh, call)
    return str(failed), time.monotonic() - started


@pytest.mark.parametrize(("arm", "said"), [
    (lambda f: f.exhaust_primary(reset_in=600),
     "GitHub's rate limit (HTTP 403) asks to wait 10 min, past the 3 s time budget"),
    (lambda f: f.secondary_rate_limit(retry_after=3600),
     "GitHub's rate limit (HTTP 403) asks to wait 60 min, past the 3 s time budget"),
    (lambda f: f.secondary_rate_limit(retry_after=600, status=429),
     "GitHub's rate limit (HTTP 429) asks to wait 10 min, past the 3 s time budget"),
], ids=["primary-reset-in-10-min", "secondary-retry-after-1-h", "429-retry-after-10-min"])
def test_a_long_rate_limit_gives_up_at_once(fake_github: FakeGitHub, tmp_path: Path,
                                            arm: Callable[[FakeGitHub], object],
                                            said: str) -> None:
    pr = fake_github.state.add_pull(REPO)
    arm(fake_github)
    gh = session(context(fake_github, tmp_path), timeout=BUDGET)
    message, elapsed = timed(gh, lambda: gh.repo.get_pull(pr.number).title)
    assert message.startswith("reading: gave up on GitHub after ")
    assert message.endswith(said)
    assert elapsed < 1  # a wait that would pass the deadline is not begun
    assert len(fake_github.requests()) == 1


def test_retries_stop_before_the_deadline(fake_github: FakeGitHub, tmp_path: Path) -> None:
    """Backoff 0, 1, 2, 4 s...: after the second 502 the next wait (2 s) would pass it."""
    pr = fake_github.state.add_pull(REPO)
    fake_github.fail_next(50, 502)
    gh = session(context(fake_github, tmp_path), timeout=BUDGET)
    message, elapsed = timed(gh, lambda: gh.repo.get_pull(pr.number).title)
    assert message.endswith("after HTTP 502, the next retry is in 2 s, past the 3 s time budget")
    assert elapsed < BUDGET


def test_a_slow_answer_is_cut_at_the_deadline(fake_github: FakeGitHub, tmp_path: Path) -> None:
    """The request timeout (30 s) is capped by the time left: the attempt ends at the
    deadline, and no further attempt is made."""
    pr = fake_github.state.add_pull(REPO)
    fake_github.slow(10, count=5)
    gh = session(context(fake_github, tmp_path), timeout=BUDGET)
    message, elapsed = timed(gh, lambda: gh.repo.get_pull(pr.number).title)
    assert message.endswith("the 3 s time budget ran out (ReadTimeoutError)"), message
    assert BUDGET - 0.1 <= elapsed < BUDGET + SLACK


def test_the_deadline_is_shared_by_every_request(fake_github: FakeGitHub,
                                                 tmp_path: Path) -> None:
    pr = fake_github.state.add_pull(REPO)
    gh = session(context(fake_github, tmp_path), timeout=BUDGET)
    fake_github.slow(2.5, count=1)
    assert gh.repo.get_pull(pr.number).title  # 2.5 s of the 3
    fake_github.slow(2.5, count=1)
    message, elapsed = timed(gh, lambda: gh.repo.get_issue(pr.number).title)
    assert "time budget ran out" in message
    assert elapsed < 1  # only what was left


def test_a_wait_within_the_budget_is_waited(fake_github: FakeGitHub, tmp_path: Path) -> None:
    pr = fake_github.state.add_pull(REPO)
    fake_github.exhaust_primary(reset_in=1)
    gh = session(context(fake_github, tmp_path), timeout=30)
    started = time.monotonic()
    assert gh.repo.get_pull(pr.number).title
    assert time.monotonic() - started >= 1
