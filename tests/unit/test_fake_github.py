"""The fake GitHub, proven with unmodified PyGithub (the client our actions use).

The fault tests also pin down how PyGithub's default `GithubRetry` reacts to GitHub's
failure modes, since our actions rely on it rather than on their own retry loops.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import (
    BadCredentialsException,
    RateLimitExceededExceedsMaxWait,
    RateLimitExceededException,
    UnknownObjectException,
)

from fake_github import FakeGitHub
from fake_github.fixtures import BOT, FORK_USER, READONLY_TOKEN, REPO, WRITER_TOKEN

SUPPORT = Path(__file__).resolve().parents[1] / "support"


def client(fake: FakeGitHub, token: str = WRITER_TOKEN, **options: object) -> Github:
    """PyGithub as our actions build it, minus its client-side throttle (0.25 s between
    requests, 1 s between writes) so timings below measure the retries alone."""
    options.setdefault("per_page", 100)
    options.setdefault("base_url", fake.url)
    return Github(
        auth=Auth.Token(token),
        seconds_between_requests=None,
        seconds_between_writes=None,
        **options,  # type: ignore[arg-type]
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def gh(fake_github: FakeGitHub) -> Github:
    return client(fake_github)


# ----- reads -----------------------------------------------------------------------------


def test_user_is_the_token_owner(fake_github: FakeGitHub, gh: Github) -> None:
    user = gh.get_user()
    assert (user.login, user.type) == (BOT, "Bot")
    assert client(fake_github, READONLY_TOKEN).get_user().login == FORK_USER


def test_ghes_prefix_is_served_and_kept_in_urls(fake_github: FakeGitHub) -> None:
    fake_github.state.add_issue(REPO, "On GHES")
    issue = client(fake_github, base_url=fake_github.ghes_url).get_repo(REPO).get_issue(1)
    assert issue.url == f"{fake_github.ghes_url}/repos/{REPO}/issues/1"
    assert [r.path for r in fake_github.requests()] == [f"/repos/{REPO}", f"/repos/{REPO}/issues/1"]


def test_pull_request_from_a_fork(fake_github: FakeGitHub, gh: Github) -> None:
    seeded = fake_github.state.add_pull(
        REPO,
        title="Fix",
        user=FORK_USER,
        head_ref="fix",
        head_repo="fork-user/app",
        labels=["ci:full"],
        committed_at=at("2024-05-01T09:00:00"),
    )
    assert seeded.pull is not None
    pull = gh.get_repo(REPO).get_pull(seeded.number)
    assert (pull.number, pull.title, pull.state, pull.user.login) == (1, "Fix", "open", FORK_USER)
    assert (pull.head.ref, pull.head.sha, pull.base.ref) == ("fix", seeded.pull.head_sha, "main")
    assert pull.head.repo.full_name == "fork-user/app"
    assert pull.head.repo.fork
    assert [label.name for label in pull.labels] == ["ci:full"]
    [commit] = pull.get_commits()
    assert commit.sha == seeded.pull.head_sha
    assert commit.commit.committer.date == at("2024-05-01T09:00:00")


def test_pull_listing_filters_and_commit_lookup(fake_github: FakeGitHub, gh: Github) -> None:
    state = fake_github.state
    mine = state.add_pull(REPO, user=FORK_USER, head_ref="fix", head_repo="fork-user/app")
    state.add_pull(REPO, head_ref="fix")  # same branch name, other owner
    state.add_pull(REPO, head_ref="old", state="closed")
    new_head = state.push_commit(REPO, mine.number, at=at("2024-05-02T10:00:00"))
    repo = gh.get_repo(REPO)

    assert [p.number for p in repo.get_pulls(state="open", head="fork-user:fix")] == [1]
    assert [p.number for p in repo.get_pulls(state="open")] == [2, 1]  # newest first
    assert [p.number for p in repo.get_pulls(state="all")] == [3, 2, 1]
    commit = repo.get_commit(new_head.sha[:10])
    assert commit.sha == new_head.sha
    assert [p.number for p in commit.get_pulls()] == [1]
    assert repo.get_pull(1).head.sha == new_head.sha
    assert repo.get_pull(1).commits == 2


def test_workflow_run_with_jobs_and_steps(fake_github: FakeGitHub, gh: Github) -> None:
    fake_github.state.add_workflow_run(
        REPO,
        id=42,
        head_sha="a" * 40,
        conclusion="failure",
        jobs=[
            {"name": "build", "steps": ["Checkout", "Build"]},
            {
                "name": "test",
                "conclusion": "failure",
                "steps": ["Checkout", {"name": "Test", "conclusion": "failure"}],
            },
        ],
    )
    run = gh.get_repo(REPO).get_workflow_run(42)
    assert (run.id, run.head_sha, run.conclusion) == (42, "a" * 40, "failure")
    jobs = {job.name: job for job in run.jobs()}
    assert jobs["test"].conclusion == "failure"
    assert [(s.number, s.name, s.conclusion) for s in jobs["test"].steps] == [
        (1, "Checkout", "success"),
        (2, "Test", "failure"),
    ]


# ----- labels ----------------------------------------------------------------------------


def test_repo_labels_create_get_and_reject_duplicates(gh: Github) -> None:
    repo = gh.get_repo(REPO)
    repo.create_label("ci:full", "0e8a16", "Run the full stack")
    label = repo.get_label("CI:FULL")  # names are case-insensitive
    assert (label.name, label.color, label.description) == (
        "ci:full",
        "0e8a16",
        "Run the full stack",
    )
    with pytest.raises(GithubException) as error:
        repo.create_label("ci:full", "ffffff")
    assert error.value.status == 422
    assert [label.name for label in repo.get_labels()] == ["ci:full"]


def test_issue_labels_add_remove_and_their_events(fake_github: FakeGitHub, gh: Github) -> None:
    fake_github.state.add_issue(REPO, "Gate me", user=FORK_USER)
    issue = gh.get_repo(REPO).get_issue(1)
    issue.add_to_labels("ci:full", "safe to test")
    issue.remove_from_labels("ci:full")
    assert [label.name for label in issue.get_labels()] == ["safe to test"]
    with pytest.raises(GithubException) as error:  # GitHub: 404 "Label does not exist"
        issue.remove_from_labels("ci:full")
    assert error.value.status == 404

    events = [(e.event, e.label.name, e.actor.login) for e in issue.get_events()]
    assert events == [
        ("labeled", "ci:full", BOT),
        ("labeled", "safe to test", BOT),
        ("unlabeled", "ci:full", BOT),
    ]
    assert [e.event for e in issue.get_timeline()] == ["labeled", "labeled", "unlabeled"]


def test_seeded_label_events_keep_their_actor_and_time(fake_github: FakeGitHub, gh: Github) -> None:
    state = fake_github.state
    pr = state.add_pull(
        REPO, user=FORK_USER, at=at("2024-05-01T08:00:00"), committed_at=at("2024-05-01T08:00:00")
    )
    state.add_label_to_issue(
        REPO, pr.number, "ok-to-test", actor="maintainer", at=at("2024-05-01T10:00:00")
    )
    state.push_commit(REPO, pr.number, at=at("2024-05-01T11:00:00"))
    state.add_comment(REPO, pr.number, "pushed", user=FORK_USER, at=at("2024-05-01T11:30:00"))

    timeline = list(gh.get_repo(REPO).get_issue(pr.number).get_timeline())
    assert [e.event for e in timeline] == ["committed", "labeled", "committed", "commented"]
    labeled = timeline[1]
    assert (labeled.actor.login, labeled.created_at) == ("maintainer", at("2024-05-01T10:00:00"))
    assert timeline[3].created_at == at("2024-05-01T11:30:00")


# ----- issues ----------------------------------------------------------------------------


def test_issue_create_edit_and_list_filters(fake_github: FakeGitHub, gh: Github) -> None:
    fake_github.state.add_issue(REPO, "Seeded", user=FORK_USER, labels=["bug"])
    repo = gh.get_repo(REPO)
    created = repo.create_issue("Flaky stack", body="logs...", labels=["bug", "ci"])
    assert (created.number, created.user.login, created.state) == (2, BOT, "open")
    created.edit(title="Flaky stack (again)", labels=["bug", "ci", "stackci"])
    repo.create_issue("Other")
    repo.get_issue(3).edit(state="closed")

    def numbers(**filters: object) -> list[int]:
        return [i.number for i in repo.get_issues(**filters)]  # type: ignore[arg-type]

    assert numbers() == [2, 1]  # open only, newest first
    assert numbers(state="all") == [3, 2, 1]
    assert numbers(state="closed") == [3]
    assert numbers(labels=["bug", "ci"]) == [2]  # every label must match
    assert numbers(labels=["bug"], creator=FORK_USER) == [1]
    assert numbers(state="all", creator=BOT) == [3, 2]
    reread = repo.get_issue(2)
    assert reread.title == "Flaky stack (again)"
    assert sorted(label.name for label in reread.labels) == ["bug", "ci", "stackci"]
    assert repo.get_issue(3).closed_at is not None


def test_pull_requests_are_issues_too(fake_github: FakeGitHub, gh: Github) -> None:
    fake_github.state.add_issue(REPO, "An issue")
    fake_github.state.add_pull(REPO, title="A PR")
    repo = gh.get_repo(REPO)
    assert [(i.number, i.pull_request is not None) for i in repo.get_issues()] == [
        (2, True),
        (1, False),
    ]
    with pytest.raises(UnknownObjectException):
        repo.get_pull(1)


# ----- comments --------------------------------------------------------------------------


def test_250_comments_come_in_exactly_three_pages(fake_github: FakeGitHub, gh: Github) -> None:
    fake_github.state.add_issue(REPO, "Busy")
    for n in range(250):
        fake_github.state.add_comment(REPO, 1, f"comment {n}", user=FORK_USER)
    issue = gh.get_repo(REPO).get_issue(1)
    fake_github.reset_log()

    bodies = [c.body for c in issue.get_comments()]

    assert bodies == [f"comment {n}" for n in range(250)]
    pages = fake_github.requests("GET", f"/repos/{REPO}/issues/1/comments")
    assert [r.query.get("page", "1") for r in pages] == ["1", "2", "3"]
    assert len(fake_github.requests()) == 3  # no lazy completion of listed comments
    assert issue.get_comments().totalCount == 250


def test_link_header_is_github_shaped(fake_github: FakeGitHub) -> None:
    fake_github.state.add_issue(REPO, "Busy")
    for n in range(250):
        fake_github.state.add_comment(REPO, 1, f"comment {n}")
    url = f"{fake_github.url}/repos/{REPO}/issues/1/comments"

    def links(page: int) -> dict[str, str]:
        response = requests.get(
            url,
            params={"per_page": "100", "page": str(page)},
            headers={"Authorization": f"Bearer {WRITER_TOKEN}"},
            timeout=5,
        )
        response.raise_for_status()
        return {rel: link["url"] for rel, link in response.links.items()}

    page = f"{url}?per_page=100&page="
    assert links(1) == {"next": f"{page}2", "last": f"{page}3"}
    assert links(2) == {
        "prev": f"{page}1",
        "next": f"{page}3",
        "last": f"{page}3",
        "first": f"{page}1",
    }
    assert links(3) == {"prev": f"{page}2", "first": f"{page}1"}


def test_comment_create_get_edit_delete(fake_github: FakeGitHub, gh: Github) -> None:
    fake_github.state.add_pull(REPO)
    issue = gh.get_repo(REPO).get_issue(1)
    comment = issue.create_comment("<!-- stackci --> first")
    assert comment.user.login == BOT
    assert comment.html_url.endswith(f"/{REPO}/pull/1#issuecomment-{comment.id}")
    comment.edit("<!-- stackci --> second")
    assert issue.get_comment(comment.id).body == "<!-- stackci --> second"
    comment.delete()
    assert fake_github.state.comments(REPO, 1) == []
    assert fake_github.requests("DELETE")[0].status == 204


# ----- auth and errors -------------------------------------------------------------------


@pytest.mark.parametrize("token", ["ghs_unknown", ""])
def test_bad_credentials_are_401(fake_github: FakeGitHub, token: str) -> None:
    headers = {"Authorization": f"token {token}"} if token else {}
    response = requests.get(f"{fake_github.url}/repos/{REPO}", headers=headers, timeout=5)
    assert (response.status_code, response.json()["message"]) == (401, "Bad credentials")
    with pytest.raises(BadCredentialsException):
        client(fake_github, "ghs_unknown").get_repo(REPO)


def test_read_only_token_reads_but_cannot_write(fake_github: FakeGitHub) -> None:
    fake_github.state.add_issue(REPO, "Untouchable")
    issue = client(fake_github, READONLY_TOKEN).get_repo(REPO).get_issue(1)
    with pytest.raises(GithubException) as error:
        issue.create_comment("hi")
    assert error.value.status == 403
    assert error.value.data["message"] == "Resource not accessible by integration"
    with pytest.raises(GithubException):
        issue.add_to_labels("x")
    assert fake_github.state.comments(REPO, 1) == []
    assert fake_github.state.issue(REPO, 1).labels == []


def test_unknown_route_is_404(fake_github: FakeGitHub) -> None:
    response = requests.get(
        f"{fake_github.url}/repos/{REPO}/nope",
        headers={"Authorization": f"token {WRITER_TOKEN}"},
        timeout=5,
    )
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"


def test_rate_limit_headers_count_requests(fake_github: FakeGitHub, gh: Github) -> None:
    gh.get_repo(REPO)
    assert gh.get_user().login == BOT  # get_user() is lazy until an attribute is read
    limit = gh.get_rate_limit()  # not counted, as on GitHub
    assert (limit.rate.limit, limit.rate.used, limit.rate.remaining) == (5000, 2, 4998)
    assert gh.rate_limiting == (4998, 5000)
    response = requests.get(
        f"{fake_github.url}/user", headers={"Authorization": f"token {WRITER_TOKEN}"}, timeout=5
    )
    assert response.headers["X-RateLimit-Used"] == "3"
    assert response.headers["X-RateLimit-Resource"] == "core"
    assert int(response.headers["X-RateLimit-Reset"]) > time.time()


# ----- faults, and how PyGithub's default GithubRetry copes --------------------------------


def test_502s_are_retried_at_once_and_leave_no_trace(fake_github: FakeGitHub, gh: Github) -> None:
    fake_github.state.add_issue(REPO, "Flaky")
    issue = gh.get_repo(REPO).get_issue(1)
    fake_github.fail_next(2, status=502)
    fake_github.reset_log()

    issue.create_comment("once")  # POST is in GithubRetry's allowed methods

    assert [(r.status, r.fault) for r in fake_github.requests()] == [
        (502, "status"),
        (502, "status"),
        (201, None),
    ]
    assert [c.body for c in fake_github.state.comments(REPO, 1)] == ["once"]


def test_apply_then_fail_carries_the_write_out_and_loses_the_answer(
    fake_github: FakeGitHub, gh: Github
) -> None:
    """A POST applied by GitHub whose answer was lost: PyGithub retries it, and the
    comment now exists twice. What every writer must be ready for."""
    fake_github.state.add_issue(REPO, "Lossy")
    issue = gh.get_repo(REPO).get_issue(1)
    fake_github.apply_then_fail(1, 502, method="POST")
    fake_github.reset_log()
    issue.create_comment("once?")
    assert [(r.status, r.fault) for r in fake_github.requests()] == [
        (502, "applied"), (201, None)]
    assert [c.body for c in fake_github.state.comments(REPO, 1)] == ["once?", "once?"]


def test_a_502_on_patch_is_not_retried(fake_github: FakeGitHub, gh: Github) -> None:
    """urllib3 only retries HEAD/GET/PUT/DELETE/OPTIONS/TRACE, and GithubRetry adds POST:
    a failed PATCH (issue edit, comment edit) surfaces at once."""
    fake_github.state.add_issue(REPO, "Before")
    issue = gh.get_repo(REPO).get_issue(1)
    fake_github.fail_next(1, status=502, method="PATCH")
    with pytest.raises(GithubException) as error:
        issue.edit(title="After")
    assert error.value.status == 502
    assert fake_github.state.issue(REPO, 1).title == "Before"


def test_persistent_502s_end_in_requests_retry_error(fake_github: FakeGitHub, gh: Github) -> None:
    """After 10 retries the error is `requests`' RetryError, not a GithubException."""
    fake_github.fail_next(50, status=502)
    with pytest.raises(requests.exceptions.RetryError):
        gh.get_repo(REPO)
    assert len(fake_github.requests()) == 11


def test_secondary_limit_waits_for_retry_after(fake_github: FakeGitHub, gh: Github) -> None:
    fake_github.state.add_issue(REPO, "Busy")
    issue = gh.get_repo(REPO).get_issue(1)
    fake_github.secondary_rate_limit(retry_after=2, method="write")
    fake_github.reset_log()

    started = time.monotonic()
    issue.create_comment("after the wait")
    elapsed = time.monotonic() - started

    assert 2 <= elapsed < 5  # Retry-After, not the 60 s default wait
    log = fake_github.requests()
    assert [(r.method, r.status, r.fault) for r in log] == [
        ("POST", 403, "secondary"),
        ("POST", 201, None),
    ]
    assert log[1].time - log[0].time >= 2
    assert len(fake_github.state.comments(REPO, 1)) == 1


def test_secondary_limit_without_retry_after_waits_secondary_rate_wait(
    fake_github: FakeGitHub,
) -> None:
    """Without Retry-After, GithubRetry sleeps `secondary_rate_wait` (60 s by default)."""
    gh = client(fake_github, retry=GithubRetry(secondary_rate_wait=1))
    fake_github.secondary_rate_limit(retry_after=None)
    started = time.monotonic()
    gh.get_repo(REPO)
    assert 1 <= time.monotonic() - started < 4
    assert [r.status for r in fake_github.requests()] == [403, 200]


def test_secondary_limit_raises_when_wait_exceeds_max(fake_github: FakeGitHub) -> None:
    gh = client(fake_github, retry=GithubRetry(max_rate_limit_wait=5))
    fake_github.secondary_rate_limit(retry_after=None)  # would wait the default 60 s
    with pytest.raises(RateLimitExceededExceedsMaxWait):
        gh.get_repo(REPO)


def test_retry_after_is_not_capped_by_max_rate_limit_wait(fake_github: FakeGitHub) -> None:
    """`max_rate_limit_wait` only caps waits GithubRetry computes itself; a Retry-After
    sleep is urllib3's and is capped by `retry_after_max` (6 h) alone."""
    gh = client(fake_github, retry=GithubRetry(max_rate_limit_wait=1))
    fake_github.secondary_rate_limit(retry_after=2)
    started = time.monotonic()
    gh.get_repo(REPO)
    assert time.monotonic() - started >= 2


def test_primary_limit_waits_until_the_reset(fake_github: FakeGitHub, gh: Github) -> None:
    started = time.time()
    fault = fake_github.exhaust_primary(reset_in=2)
    assert fault.until is not None

    gh.get_repo(REPO)

    # GithubRetry sleeps until X-RateLimit-Reset plus one second.
    assert time.time() >= fault.until
    first, last = fake_github.requests()
    assert (first.status, first.fault, last.status) == (403, "primary", 200)
    assert 2 <= last.time - started < fault.until - started + 3


def test_primary_limit_headers(fake_github: FakeGitHub) -> None:
    fault = fake_github.exhaust_primary(reset_in=60, status=429)
    response = requests.get(
        f"{fake_github.url}/repos/{REPO}",
        headers={"Authorization": f"token {WRITER_TOKEN}"},
        timeout=5,
    )
    assert response.status_code == 429
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Reset"] == str(fault.until)
    assert response.json()["message"].startswith("API rate limit exceeded")


def test_secondary_limit_headers(fake_github: FakeGitHub) -> None:
    fake_github.secondary_rate_limit(retry_after=7, status=429)
    response = requests.get(
        f"{fake_github.url}/repos/{REPO}",
        headers={"Authorization": f"token {WRITER_TOKEN}"},
        timeout=5,
    )
    assert (response.status_code, response.headers["Retry-After"]) == (429, "7")
    assert response.json()["message"].startswith("You have exceeded a secondary rate limit")


def test_a_429_primary_limit_is_not_retried(fake_github: FakeGitHub, gh: Github) -> None:
    """GitHub may answer a primary limit with 429; GithubRetry only inspects 403s and
    429 is not in its status list, so the call fails at once (and not even as a
    RateLimitExceededException)."""
    fake_github.exhaust_primary(reset_in=60, status=429)
    with pytest.raises(GithubException) as error:
        gh.get_repo(REPO)
    assert error.value.status == 429
    assert not isinstance(error.value, RateLimitExceededException)
    assert len(fake_github.requests()) == 1


def test_slow_delays_matching_requests_only(fake_github: FakeGitHub, gh: Github) -> None:
    fake_github.slow(1.0, count=1, path=r"/repos/octo/app")
    started = time.monotonic()
    gh.get_user()
    assert time.monotonic() - started < 1
    gh.get_repo(REPO)
    assert time.monotonic() - started >= 1
    started = time.monotonic()
    gh.get_repo(REPO)  # count exhausted
    assert time.monotonic() - started < 1


def test_a_timed_out_post_is_retried_and_can_post_twice(fake_github: FakeGitHub) -> None:
    """`slow` delays before the request is processed, as a loaded GitHub would: the client
    times out, GithubRetry re-sends the POST, and both land. Creating is not idempotent."""
    fake_github.state.add_issue(REPO, "Sticky")
    issue = client(fake_github, timeout=1).get_repo(REPO).get_issue(1)
    fake_github.slow(2.0, method="POST")

    issue.create_comment("<!-- sticky -->")

    deadline = time.monotonic() + 5
    while len(fake_github.state.comments(REPO, 1)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [c.body for c in fake_github.state.comments(REPO, 1)] == ["<!-- sticky -->"] * 2


def test_faults_scoped_to_writes_spare_reads(fake_github: FakeGitHub, gh: Github) -> None:
    fake_github.state.add_issue(REPO, "Scoped")
    fake_github.fail_next(1, status=404, method="write")
    issue = gh.get_repo(REPO).get_issue(1)  # GETs pass
    with pytest.raises(UnknownObjectException):
        issue.add_to_labels("x")  # 404 is not retried
    assert fake_github.state.issue(REPO, 1).labels == []
    issue.add_to_labels("x")
    assert fake_github.state.issue(REPO, 1).labels == ["x"]


# ----- driving a server started by hand ----------------------------------------------------


def test_control_endpoints_seed_fault_and_log(fake_github: FakeGitHub) -> None:
    control = f"{fake_github.url}/_fake"
    seed = {
        "tokens": [{"token": "ghs_other", "login": "someone"}],
        "pulls": [
            {"repo": REPO, "title": "Seeded", "labels": ["ci"], "at": "2024-05-01T10:00:00Z"}
        ],
        "comments": [{"repo": REPO, "number": 1, "body": "hi", "user": "someone"}],
    }
    assert requests.post(f"{control}/state", json=seed, timeout=5).status_code == 200
    fault = {"kind": "fail_next", "n": 1, "status": 503, "path": "/pulls/"}
    assert requests.post(f"{control}/faults", json=fault, timeout=5).status_code == 201

    pull = client(fake_github, "ghs_other").get_repo(REPO).get_pull(1)

    assert (pull.title, pull.created_at) == ("Seeded", at("2024-05-01T10:00:00"))
    log = requests.get(f"{control}/log", timeout=5).json()
    assert [(e["path"], e["status"], e["user"]) for e in log] == [
        (f"/repos/{REPO}", 200, "someone"),
        (f"/repos/{REPO}/pulls/1", 503, "someone"),
        (f"/repos/{REPO}/pulls/1", 200, "someone"),
    ]
    dumped = requests.get(f"{control}/state", timeout=5).json()
    [repo] = dumped["repos"]
    assert repo["issues"]["1"]["labels"] == ["ci"]


def test_main_serves_a_seed_file(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps(
            {
                "tokens": [{"token": "ghs_cli", "login": "cli-bot"}],
                "repos": ["octo/cli"],
            }
        )
    )
    with _Main(seed) as url:
        gh = Github(auth=Auth.Token("ghs_cli"), base_url=url)
        assert gh.get_repo("octo/cli").full_name == "octo/cli"
        assert gh.get_user().login == "cli-bot"


class _Main:
    """`python -m fake_github` as a context manager yielding its URL."""

    def __init__(self, seed: Path) -> None:
        self.seed = seed
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fake_github", "--seed", str(self.seed)],
            cwd=SUPPORT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline().strip()
        assert first.startswith("FAKE_GITHUB_URL="), first
        return first.removeprefix("FAKE_GITHUB_URL=")

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        assert self.process.wait(timeout=10) == 0
