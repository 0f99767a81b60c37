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

from fake_github import FakeGitHub, load_seed
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


def api_get(fake: FakeGitHub, path: str, **params: str) -> requests.Response:
    """A raw authenticated GET, for what PyGithub does not expose (headers, redirects)."""
    return requests.get(
        f"{fake.url}{path}",
        params=params,
        headers={"Authorization": f"Bearer {WRITER_TOKEN}"},
        allow_redirects=False,
        timeout=5,
    )


def test_rerun_attempts_keep_their_own_jobs(fake_github: FakeGitHub, gh: Github) -> None:
    state = fake_github.state
    run = state.add_workflow_run(
        REPO,
        "a" * 40,
        conclusion="failure",
        at=at("2024-05-01T10:00:00"),
        jobs=[{"name": "build"}, {"name": "test", "conclusion": "failure"}],
    )
    state.add_run_attempt(
        REPO,
        run.id,
        jobs=[{"name": "build"}, {"name": "test"}],
        at=at("2024-05-01T11:00:00"),
        actor=FORK_USER,
    )
    repo = gh.get_repo(REPO)
    latest = repo.get_workflow_run(run.id)

    assert (latest.run_attempt, latest.conclusion) == (2, "success")
    assert latest.run_started_at == at("2024-05-01T11:00:00")
    assert latest.triggering_actor.login == FORK_USER
    assert latest.previous_attempt_url == f"{latest.url}/attempts/1"
    assert [(j.name, j.run_attempt) for j in latest.jobs()] == [("build", 2), ("test", 2)]
    assert [(j.name, j.run_attempt) for j in latest.jobs("latest")] == [("build", 2), ("test", 2)]
    every = [(j.name, j.run_attempt, j.conclusion) for j in latest.jobs("all")]
    assert every == [
        ("build", 1, "success"),
        ("test", 1, "failure"),
        ("build", 2, "success"),
        ("test", 2, "success"),
    ]

    first = latest.get_attempt(1)
    assert (first.run_attempt, first.status, first.conclusion) == (1, "completed", "failure")
    assert first.previous_attempt_url is None
    assert first.run_started_at == at("2024-05-01T10:00:00")
    assert first.jobs_url == f"{latest.url}/attempts/1/jobs"
    assert [(j.name, j.conclusion) for j in first.jobs()] == [
        ("build", "success"),
        ("test", "failure"),
    ]
    assert latest.get_attempt(2).run_attempt == 2

    jobs = f"/repos/{REPO}/actions/runs/{run.id}/attempts/1/jobs"
    page = api_get(fake_github, jobs, per_page="1")
    assert page.json()["total_count"] == 2
    assert [j["name"] for j in page.json()["jobs"]] == ["build"]
    assert page.links["next"]["url"].endswith("per_page=1&page=2")
    for missing in (f"/repos/{REPO}/actions/runs/{run.id}/attempts/3", jobs.replace("/1/", "/0/")):
        assert api_get(fake_github, missing).status_code == 404
    assert (
        api_get(fake_github, f"/repos/{REPO}/actions/runs/{run.id}/jobs", filter="x").status_code
        == 422
    )

    one = repo.get_workflow_job(first.jobs()[1].id)
    assert (one.name, one.run_attempt, one.run_id, one.conclusion) == ("test", 1, run.id, "failure")
    with pytest.raises(UnknownObjectException):
        repo.get_workflow_job(999_999)


def test_a_run_seeded_at_a_later_attempt(fake_github: FakeGitHub, gh: Github) -> None:
    load_seed(
        fake_github.state,
        {
            "workflow_runs": [
                {
                    "repo": REPO,
                    "id": 42,
                    "head_sha": "b" * 40,
                    "run_attempt": 2,
                    "at": "2024-05-01T10:00:00Z",
                    "jobs": [
                        {"name": "test", "run_attempt": 1, "conclusion": "cancelled"},
                        {"name": "test"},
                    ],
                }
            ],
            "run_attempts": [{"repo": REPO, "run_id": 42, "conclusion": "failure"}],
        },
    )
    run = gh.get_repo(REPO).get_workflow_run(42)
    assert (run.run_attempt, run.conclusion) == (3, "failure")
    assert [j.run_attempt for j in run.jobs("all")] == [1, 2]
    assert list(run.jobs()) == []  # the seeded re-run brought no jobs
    assert [(a.run_attempt, a.conclusion) for a in map(run.get_attempt, (1, 2))] == [
        (1, "cancelled"),  # as its jobs ended: nothing else is known of it
        (2, "success"),
    ]


def test_job_log_redirects_to_a_presigned_download(fake_github: FakeGitHub, gh: Github) -> None:
    run = fake_github.state.add_workflow_run(
        REPO,
        "a" * 40,
        jobs=[{"name": "build", "log": "step 1\nstep 2\n"}, {"name": "old", "log_expired": True}],
    )
    build, old = run.jobs
    logs = f"/repos/{REPO}/actions/jobs/{build.id}/logs"

    answer = api_get(fake_github, logs)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(f"{fake_github.url}/_fake/job-logs/{build.id}?token=")
    assert gh.get_repo(REPO).get_workflow_job(build.id).logs_url() == location

    fake_github.reset_log()
    download = requests.get(location, timeout=5)  # no credentials, like GitHub's blob URL
    assert (download.status_code, download.text) == (200, "step 1\nstep 2\n")
    assert download.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert fake_github.requests() == []  # not an API request
    forged = location.replace(f"/{build.id}?", f"/{old.id}?")
    assert requests.get(forged, timeout=5).status_code == 403
    # What PyGithub callers do: requests follows the redirect itself.
    followed = requests.get(
        f"{fake_github.url}{logs}", headers={"Authorization": f"token {WRITER_TOKEN}"}, timeout=5
    )
    assert followed.text == "step 1\nstep 2\n"

    with pytest.raises(GithubException) as gone:
        gh.get_repo(REPO).get_workflow_job(old.id).logs_url()
    assert (gone.value.status, gone.value.data["message"]) == (410, "Gone")
    assert api_get(fake_github, f"/repos/{REPO}/actions/jobs/1/logs").status_code == 404


def test_workflows_by_id_or_file_name_and_their_runs(fake_github: FakeGitHub, gh: Github) -> None:
    state = fake_github.state
    state.add_user("octocat")
    lint = ".github/workflows/lint.yml"

    def run(when: str, **fields: object) -> int:
        fields.setdefault("head_branch", "main")
        fields.setdefault("event", "push")
        return state.add_workflow_run(REPO, "c" * 40, at=at(when), **fields).id  # type: ignore[arg-type]

    old = run("2024-05-01T10:00:00", run_number=40)
    failed = run("2024-05-02T10:00:00", conclusion="failure")
    run("2024-05-03T10:00:00", head_branch="feature", event="pull_request")
    running = run("2024-05-04T10:00:00", status="in_progress", conclusion=None, actor=FORK_USER)
    linted = run("2024-05-02T12:00:00", name="Lint", path=lint)
    repo = gh.get_repo(REPO)

    ci = repo.get_workflow("ci.yml")
    assert (ci.name, ci.path, ci.state) == ("CI", ".github/workflows/ci.yml", "active")
    assert repo.get_workflow(ci.id).url == ci.url == f"{repo.url}/actions/workflows/{ci.id}"
    assert repo.get_workflow("lint.yml").id != ci.id
    with pytest.raises(UnknownObjectException):
        repo.get_workflow("nope.yml")
    assert repo.get_workflow_run(old).workflow_id == ci.id
    assert repo.get_workflow_run(linted).workflow_url.endswith(
        f"/workflows/{repo.get_workflow('lint.yml').id}"
    )
    assert [w.name for w in repo.get_workflows()] == ["CI", "Lint"]

    def ids(runs: object) -> list[int]:
        return [r.id for r in runs]  # type: ignore[attr-defined]

    assert ids(ci.get_runs(branch="main", status="completed")) == [failed, old]
    assert ids(ci.get_runs(status="failure")) == [failed]  # a conclusion works too
    assert ids(ci.get_runs(status="in_progress")) == [running]
    assert ids(ci.get_runs(actor=FORK_USER)) == [running]
    assert ci.get_runs(event="pull_request").totalCount == 1
    assert ci.get_runs(head_sha="d" * 40).totalCount == 0
    main_runs = repo.get_workflow_runs(branch="main", status="success")  # type: ignore[arg-type]
    assert ids(main_runs) == [linted, old]
    assert repo.get_workflow_runs().totalCount == 5
    # The counter continues from the highest number, seeded or not.
    assert [r.run_number for r in ci.get_runs()] == [43, 42, 41, 40]

    page = api_get(
        fake_github, f"/repos/{REPO}/actions/workflows/{ci.id}/runs", per_page="2", page="2"
    )
    assert page.json()["total_count"] == 4
    assert [r["id"] for r in page.json()["workflow_runs"]] == [failed, old]
    assert set(page.links) == {"prev", "first"}


def test_compare_branches_and_shas(fake_github: FakeGitHub, gh: Github) -> None:
    state = fake_github.state
    root = state.push_commit(REPO, branch="main", message="root", at=at("2024-05-01T09:00:00"))
    shared = state.push_commit(REPO, branch="main", message="shared")
    topic = [state.push_commit(REPO, branch="topic", message=f"topic {n}") for n in (1, 2)]
    ahead_of_topic = state.push_commit(REPO, branch="main", message="main moves on")
    repo = gh.get_repo(REPO)

    found = repo.compare("main", "topic")
    assert (found.status, found.ahead_by, found.behind_by) == ("diverged", 2, 1)
    assert found.total_commits == 2
    assert [c.sha for c in found.commits] == [c.sha for c in topic]  # oldest first
    assert [c.commit.message for c in found.commits] == ["topic 1", "topic 2"]
    assert found.commits[0].parents[0].sha == shared.sha
    assert found.commits[0].author.login == "octocat"
    assert found.base_commit.sha == ahead_of_topic.sha
    assert found.merge_base_commit.sha == shared.sha
    assert found.html_url == f"{fake_github.url}/{REPO}/compare/main...topic"
    assert found.diff_url == f"{found.html_url}.diff"
    assert found.files == []

    assert repo.compare(shared.sha, "main").status == "ahead"
    assert repo.compare("topic", root.sha[:7]).status == "behind"
    assert repo.compare("topic", "topic").status == "identical"
    merge = state.push_commit(
        REPO, branch="main", message="merge", parents=[ahead_of_topic.sha, topic[-1].sha]
    )
    assert (repo.compare("topic", "main").ahead_by, repo.compare("main", "topic").status) == (
        2,
        "behind",
    )
    assert repo.compare("main", "topic").merge_base_commit.sha == topic[-1].sha
    assert merge.parents == [ahead_of_topic.sha, topic[-1].sha]

    for unknown in ("main...nope", "nope...main", "main..topic"):
        assert api_get(fake_github, f"/repos/{REPO}/compare/{unknown}").status_code == 404
    state.push_commit(REPO, branch="orphan", parents=[])
    unrelated = api_get(fake_github, f"/repos/{REPO}/compare/main...orphan")
    assert unrelated.status_code == 404
    assert unrelated.json()["message"] == "No common ancestor between main and orphan."


def test_compare_what_a_pull_request_adds(fake_github: FakeGitHub, gh: Github) -> None:
    state = fake_github.state
    own = state.add_pull(REPO, head_ref="feature/x")
    state.push_commit(REPO, own.number, message="second")
    fork = state.add_pull(REPO, user=FORK_USER, head_ref="fix", head_repo="fork-user/app")
    repo = gh.get_repo(REPO)

    found = repo.compare("main", "feature/x")  # slashes in branch names
    assert [c.commit.message for c in found.commits] == ["Change\n", "second"]
    assert found.merge_base_commit.sha == repo.get_pull(own.number).base.sha
    assert found.html_url.endswith("/compare/main...feature/x")
    assert repo.compare("main", "fork-user:fix").commits[0].sha == fork.pull.head_sha  # type: ignore[union-attr]


def test_compare_pages_past_250_commits(fake_github: FakeGitHub, gh: Github) -> None:
    state = fake_github.state
    base = state.push_commit(REPO, branch="main")
    for n in range(300):
        state.push_commit(REPO, branch="long", message=f"c{n}")

    found = gh.get_repo(REPO).compare("main", "long")  # per_page=100 from the client
    assert [c.commit.message for c in found.commits] == [f"c{n}" for n in range(300)]
    assert found.commits.totalCount == found.total_commits == 300
    unpaged = api_get(fake_github, f"/repos/{REPO}/compare/{base.sha}...long").json()
    assert (len(unpaged["commits"]), unpaged["total_commits"]) == (250, 300)
    assert unpaged["commits"][0]["commit"]["message"] == "c0"


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
