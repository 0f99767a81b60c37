"""label-gate end to end against the fake GitHub: the action runs in a subprocess exactly
as the runner starts it, and the tests read what a user sees (exit code, outputs,
annotations, summary) and what GitHub ends up holding (comments, the request log)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fake_github import FakeGitHub
from fake_github.fixtures import BOT, READONLY_TOKEN, REPO, WRITER_TOKEN
from fake_github.render import Renderer, iso
from fake_github.state import Issue, IssueEvent
from stackci.core.github.sticky import hidden_marker
from stackci_testing.runner import Result, run_action

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
COMMENTS = rf"/repos/{REPO}/issues/\d+/comments"


@dataclass
class Gate:
    """Runs label-gate against the fake, with an event payload of the test's choosing."""

    fake: FakeGitHub
    env: dict[str, str]
    tmp: Path
    token: str = WRITER_TOKEN
    ran: list[Result] = field(default_factory=list)

    def event(self, name: str, payload: Mapping[str, Any], **env: str) -> None:
        path = self.tmp / f"event-{len(self.ran)}.json"
        path.write_text(json.dumps(payload))
        self.env.update({"GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(path), **env})

    def pull_event(self, pr: Issue, action: str = "labeled", **extra: Any) -> None:
        assert pr.pull is not None
        payload = {"number": pr.number, "head": {"sha": pr.pull.head_sha},
                   "labels": [{"name": n} for n in pr.labels], **extra}
        self.event("pull_request", {"action": action, "number": pr.number,
                                    "pull_request": payload},
                   GITHUB_SHA=pr.pull.head_sha)

    def run(self, **inputs: str) -> Result:
        inputs = {"github-token": self.token, **inputs}
        result = run_action("label-gate", inputs, self.env)
        self.ran.append(result)
        token = inputs["github-token"]
        seen = (result.stdout.replace(f"::add-mask::{token}", "") + result.stderr
                + json.dumps(result.outputs) + result.summary)
        assert token not in seen, "the token was shown"
        assert "Traceback" not in result.stdout + result.stderr, result
        return result

    def comments(self, number: int) -> list[tuple[str, str]]:
        return [(c.user, c.body) for c in self.fake.state.comments(REPO, number)]


@pytest.fixture
def gate(fake_github: FakeGitHub, wf_env: dict[str, str], tmp_path: Path) -> Gate:
    return Gate(fake_github, {**wf_env, "GITHUB_API_URL": fake_github.url}, tmp_path)


def annotations(result: Result, kind: str) -> list[str]:
    return [a.message for a in result.annotations if a.kind == kind]


def label(fake: FakeGitHub, pr: Issue, name: str, at: datetime) -> None:
    fake.state.add_label_to_issue(REPO, pr.number, name, actor="maintainer", at=at)


def force_push(fake: FakeGitHub, pr: Issue, at: datetime, committed: datetime) -> None:
    """A force push GitHub records at `at`, of a commit whose date says `committed`."""
    with fake.state.lock:
        fake.state.push_commit(REPO, pr.number, at=committed)
        pr.events.append(IssueEvent(fake.state.next_id(), "head_ref_force_pushed", pr.user, at))
        pr.events.sort(key=lambda e: (e.created_at, e.id))


# ----- the decision --------------------------------------------------------------------------


def test_gate_opens_when_the_label_is_there(gate: Gate) -> None:
    pr = gate.fake.state.add_pull(REPO, title="Importer", labels=["bug", "Ready-For-Merge"])
    gate.pull_event(pr)
    result = gate.run(**{"all-of": "ready-for-merge", "none-of": "do-not-merge"})
    assert result.code == 0, result
    assert result.outputs["should-run"] == "true"
    assert result.json_output("labels") == ["bug", "Ready-For-Merge"]
    assert result.json_output("matched") == ["Ready-For-Merge"]
    assert result.outputs["reason"] == "matched Ready-For-Merge (has: bug, Ready-For-Merge)"
    assert result.annotations == []
    assert result.summary.startswith("### ✅ label-gate: open")
    assert "| `all-of` | `ready-for-merge` | ✅ all present |" in result.summary


def test_a_missing_label_fails_with_one_error(gate: Gate) -> None:
    pr = gate.fake.state.add_pull(REPO, labels=["bug", "docs"])
    gate.pull_event(pr)
    result = gate.run(**{"all-of": "ready-for-merge"})
    assert result.code == 1, result
    assert result.outputs["should-run"] == "false"
    assert result.outputs["reason"] == "missing label ready-for-merge (has: bug, docs)"
    assert result.json_output("matched") == []
    [error] = result.errors()
    assert error.message == f"PR #{pr.number}: missing label ready-for-merge (has: bug, docs)"
    assert error.title == "label-gate: closed"
    assert result.summary.startswith("### ❌ label-gate failed")
    assert "❌ missing `ready-for-merge`" in result.summary


def test_skip_mode_exits_0_with_a_notice(gate: Gate) -> None:
    pr = gate.fake.state.add_pull(REPO, labels=["bug", "do-not-test"])
    gate.pull_event(pr)
    result = gate.run(**{"none-of": "do-not-*", "on-mismatch": "skip"})
    assert result.code == 0, result
    assert result.outputs["should-run"] == "false"
    assert result.errors() == []
    assert annotations(result, "notice") == [
        f"PR #{pr.number}: has forbidden label do-not-test (has: bug, do-not-test)"]
    assert result.summary.startswith("### ⏭️ label-gate: closed, gated work skipped")


def test_globs_any_of_and_matched(gate: Gate) -> None:
    pr = gate.fake.state.add_pull(REPO, labels=["test:E2E", "bug", "test:unit"])
    gate.pull_event(pr)
    result = gate.run(**{"any-of": "Test:*\nfull-ci"})
    assert result.code == 0, result
    assert result.json_output("matched") == ["test:E2E", "test:unit"]


def test_labels_are_read_live_not_from_the_payload(gate: Gate) -> None:
    """A re-run replays the old payload; the label removed since must not count."""
    pr = gate.fake.state.add_pull(REPO, labels=["ready-for-merge"])
    gate.pull_event(pr)  # the payload still lists the label ...
    gate.fake.state.remove_label_from_issue(REPO, pr.number, "ready-for-merge")  # ... gone now
    result = gate.run(**{"all-of": "ready-for-merge"})
    assert result.code == 1, result
    assert result.json_output("labels") == []
    assert gate.fake.requests("GET", rf"/repos/{REPO}/pulls/{pr.number}")


def test_pr_number_input_wins_over_the_event(gate: Gate) -> None:
    first = gate.fake.state.add_pull(REPO, labels=["bug"])
    second = gate.fake.state.add_pull(REPO, head_ref="other", labels=["ready"])
    gate.pull_event(first)
    result = gate.run(**{"all-of": "ready", "pr-number": str(second.number)})
    assert result.code == 0, result
    assert result.json_output("labels") == ["ready"]


def test_hostile_label_names_inject_nothing(gate: Gate) -> None:
    """Whoever may label a PR chooses these names: they must not add outputs or workflow
    commands, nor markup, links or mentions to the summary."""
    hostile = ["::error title=x::pwned", "a\nshould-run=true", "<b>@octo/team</b>",
               "[x](https://evil.example)"]
    pr = gate.fake.state.add_pull(REPO, labels=hostile)
    gate.pull_event(pr)
    result = gate.run(**{"all-of": "ready", "on-mismatch": "skip"})
    assert result.code == 0, result
    assert result.outputs["should-run"] == "false"
    assert result.json_output("labels") == hostile
    assert set(result.outputs) == {"should-run", "labels", "matched", "reason"}
    assert [a.kind for a in result.annotations] == ["notice"]
    assert not [line for line in result.stdout.splitlines() if "pwned" in line
                and line.startswith("::") and not line.startswith("::notice")]
    assert "<b>" not in result.summary.replace("`<b>@octo/team</b>`", "")
    assert "\\<b\\>@\u200bocto/team\\</b\\>" in result.summary  # the reason, escaped
    assert "\n" not in result.outputs["reason"]


# ----- finding the pull request ------------------------------------------------------------


def test_push_finds_the_open_pr_whose_head_is_the_commit(gate: Gate) -> None:
    pr = gate.fake.state.add_pull(REPO, head_ref="feature", labels=["ready"])
    assert pr.pull is not None
    gate.event("push", {"ref": "refs/heads/feature"}, GITHUB_SHA=pr.pull.head_sha,
               GITHUB_REF="refs/heads/feature", GITHUB_REF_NAME="feature")
    result = gate.run(**{"all-of": "ready"})
    assert result.code == 0, result
    assert result.outputs["should-run"] == "true"


def test_merge_group_reads_the_pr_from_the_queue_ref(gate: Gate) -> None:
    gate.fake.state.add_pull(REPO, labels=["bug"])
    pr = gate.fake.state.add_pull(REPO, head_ref="queued", labels=["ready"])
    ref = f"refs/heads/gh-readonly-queue/main/pr-{pr.number}-{'a' * 40}"
    gate.event("merge_group", {"merge_group": {"head_ref": ref}}, GITHUB_REF=ref)
    result = gate.run(**{"all-of": "ready"})
    assert result.code == 0, result
    assert result.json_output("labels") == ["ready"]


@pytest.mark.parametrize(("rules", "should_run"), [
    ({"all-of": "ready-for-merge"}, "false"),
    ({"none-of": "do-not-merge"}, "true"),
])
def test_a_push_without_a_pr_is_a_notice_never_a_failure(
    gate: Gate, rules: dict[str, str], should_run: str
) -> None:
    """On a push to main no PR exists, so nobody could add a label: the rules are judged
    against no labels, and a closed gate is a notice and `should-run=false`, even with
    `on-mismatch: fail`. No comment is attempted."""
    gate.fake.state.add_pull(REPO, labels=["ready-for-merge"])  # another commit's PR
    sha = "b" * 40
    gate.fake.state.repo(REPO).commits.clear()  # GitHub does not know the commit either
    gate.event("push", {"ref": "refs/heads/main"}, GITHUB_SHA=sha, GITHUB_REF="refs/heads/main",
               GITHUB_REF_NAME="main")
    result = gate.run(**rules, comment="true", **{"on-mismatch": "fail"})
    assert result.code == 0, result
    assert result.outputs["should-run"] == should_run
    assert result.json_output("labels") == []
    [notice] = annotations(result, "notice")
    judged = ("missing label ready-for-merge" if should_run == "false"
              else "no forbidden label (do-not-merge)")
    assert notice == ("no open pull request has the pushed commit bbbbbbb as its head, so "
                      f"there are no labels: {judged}")
    assert result.outputs["reason"] == notice
    assert result.errors() == []
    assert result.summary.startswith("### ➖ label-gate: no pull request")
    assert not gate.fake.requests("POST")
    assert not gate.fake.requests("GET", "/user")


def test_an_issue_event_is_not_a_pull_request(gate: Gate) -> None:
    issue = gate.fake.state.add_issue(REPO, "A plain issue", labels=["ready"])
    gate.event("issue_comment", {"action": "created", "issue": {"number": issue.number}})
    result = gate.run(**{"all-of": "ready"})
    assert result.code == 0, result
    assert result.outputs["should-run"] == "false"
    assert annotations(result, "notice")[0].startswith(
        f"#{issue.number} of this issue_comment run is an issue, not a pull request")


# ----- the explanation comment ---------------------------------------------------------------


def test_comment_is_kept_once_updated_and_deleted(gate: Gate) -> None:
    state = gate.fake.state
    pr = state.add_pull(REPO, labels=["bug"])
    state.add_comment(REPO, pr.number, "LGTM", user="reviewer")
    marker = hidden_marker("label-gate", f"ci/{gate.env['GITHUB_JOB']}")
    # Someone pasted our marker: theirs is never edited nor deleted.
    state.add_comment(REPO, pr.number, f"{marker}\nfake", user="mallory")
    gate.pull_event(pr)
    rules = {"all-of": "ready-for-merge", "comment": "true"}

    for _ in range(3):
        assert gate.run(**rules).code == 1
    ours = [(u, b) for u, b in gate.comments(pr.number) if u == BOT]
    assert len(ours) == 1
    assert ours[0][1].startswith(f"{marker}\n### 🏷️ Label gate closed\n\nmissing label "
                                 "ready-for-merge (has: bug)")
    [comment_id] = [c.id for c in state.comments(REPO, pr.number) if c.user == BOT]
    assert len(gate.fake.requests("POST", COMMENTS)) == 1
    assert not gate.fake.requests("PATCH")  # same reason: left as it is

    label(gate.fake, pr, "docs", T0)  # a new reason: the same comment is edited
    assert gate.run(**rules).code == 1
    [(comment, body)] = [(c.id, c.body) for c in state.comments(REPO, pr.number)
                         if c.user == BOT]
    assert comment == comment_id
    assert "(has: bug, docs)" in body
    assert len(gate.fake.requests("PATCH")) == 1

    label(gate.fake, pr, "ready-for-merge", T0)  # the gate opens: the comment goes
    result = gate.run(**rules)
    assert result.code == 0, result
    assert gate.comments(pr.number) == [("reviewer", "LGTM"), ("mallory", f"{marker}\nfake")]


def test_a_read_only_token_still_decides_and_warns_about_the_comment(gate: Gate) -> None:
    pr = gate.fake.state.add_pull(REPO, head_repo="fork-user/app", labels=["bug"])
    gate.pull_event(pr)
    gate.token = READONLY_TOKEN
    result = gate.run(**{"all-of": "safe-to-test", "comment": "true"})
    assert result.code == 1, result
    assert result.outputs["reason"] == "missing label safe-to-test (has: bug)"
    [error] = result.errors()
    assert error.message.endswith("missing label safe-to-test (has: bug)")
    [warning] = annotations(result, "warning")
    assert "the token is read-only" in warning
    assert "run from a fork gets a read-only token" in warning
    assert "workflow_run" in warning
    assert gate.comments(pr.number) == []
    # Only one write was tried: a refused write is not retried.
    assert [r.status for r in gate.fake.requests("POST")] == [403]


def test_read_only_token_opens_the_gate_too(gate: Gate) -> None:
    pr = gate.fake.state.add_pull(REPO, head_repo="fork-user/app", labels=["safe-to-test"])
    gate.pull_event(pr)
    gate.token = READONLY_TOKEN
    result = gate.run(**{"all-of": "safe-to-test", "comment": "true"})
    assert result.code == 0, result
    assert result.annotations == []  # nothing to delete, so nothing to write


# ----- fresh labels ------------------------------------------------------------------------------


def test_fresh_labels_a_label_from_before_the_latest_push_does_not_count(gate: Gate) -> None:
    state = gate.fake.state
    pr = state.add_pull(REPO, at=T0)
    label(gate.fake, pr, "safe-to-test", T0 + timedelta(minutes=1))
    state.push_commit(REPO, pr.number, at=T0 + timedelta(minutes=2))  # new, unreviewed code
    gate.pull_event(pr, action="labeled")
    rules = {"any-of": "safe-to-test", "fresh-labels": "true", "on-mismatch": "skip"}

    result = gate.run(**rules)
    assert result.code == 0, result
    assert result.outputs["should-run"] == "false"
    assert result.outputs["reason"] == (
        "missing label safe-to-test; safe-to-test was applied before the latest push and must "
        "be applied again (has: safe-to-test)")
    assert "| `safe-to-test` | 2024-05-01 10:01:00 UTC | ❌ applied before the latest push |" \
        in result.summary
    assert "**Latest push:** 2024-05-01 10:02:00 UTC, from the committer date" in result.summary

    # Without fresh-labels the same label counts.
    assert gate.run(**{**rules, "fresh-labels": "false"}).outputs["should-run"] == "true"

    # Applied again after the push (removed, then re-added): it counts.
    state.remove_label_from_issue(REPO, pr.number, "safe-to-test", at=T0 + timedelta(minutes=3))
    label(gate.fake, pr, "safe-to-test", T0 + timedelta(minutes=4))
    result = gate.run(**rules)
    assert result.outputs["should-run"] == "true", result
    assert result.json_output("matched") == ["safe-to-test"]


def test_fresh_labels_a_backdated_force_push_is_caught(gate: Gate) -> None:
    """The pushed commit claims an old date (anyone can set it); GitHub's record of the
    force push is what counts."""
    pr = gate.fake.state.add_pull(REPO, at=T0)
    label(gate.fake, pr, "safe-to-test", T0 + timedelta(minutes=10))
    force_push(gate.fake, pr, at=T0 + timedelta(minutes=20), committed=T0 + timedelta(minutes=5))
    gate.pull_event(pr)
    result = gate.run(**{"all-of": "safe-to-test", "fresh-labels": "true"})
    assert result.code == 1, result
    assert "**Latest push:** 2024-05-01 10:20:00 UTC, from a force push, as GitHub recorded " \
        "it" in result.summary


def test_fresh_labels_the_synchronize_run_is_the_push(gate: Gate) -> None:
    """A fast-forward push of a backdated commit leaves no force-push record, but the
    `synchronize` run it triggers carries GitHub's time for it."""
    pr = gate.fake.state.add_pull(REPO, at=T0)
    label(gate.fake, pr, "safe-to-test", T0 + timedelta(minutes=10))
    gate.fake.state.push_commit(REPO, pr.number, at=T0 + timedelta(minutes=5))  # backdated
    rules = {"all-of": "safe-to-test", "fresh-labels": "true"}

    gate.pull_event(pr, action="synchronize", updated_at=iso(T0 + timedelta(minutes=30)))
    result = gate.run(**rules)
    assert result.code == 1, result
    assert "the push that triggered this run, as GitHub recorded it" in result.summary

    # A payload about another head (the PR moved on since) proves nothing about this one.
    gate.pull_event(pr, action="synchronize", updated_at=iso(T0 + timedelta(minutes=30)),
                    head={"sha": "c" * 40})
    assert gate.run(**rules).code == 0


def test_fresh_labels_a_fork_push_counts_from_the_forks_pushed_at(
    gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fake does not track `pushed_at`; GitHub's PR payload carries it for the head
    repository, set here by wrapping the fake's renderer."""
    pushed = T0 + timedelta(minutes=30)
    plain_head_repo = Renderer.head_repo

    def head_repo(self: Renderer, base: Any, full_name: str) -> dict[str, Any]:
        data = plain_head_repo(self, base, full_name)
        if data.get("fork"):
            data["pushed_at"] = iso(pushed)
        return data

    monkeypatch.setattr(Renderer, "head_repo", head_repo)
    pr = gate.fake.state.add_pull(REPO, head_repo="fork-user/app", at=T0)
    label(gate.fake, pr, "safe-to-test", T0 + timedelta(minutes=10))
    gate.pull_event(pr)
    result = gate.run(**{"all-of": "safe-to-test", "fresh-labels": "true"})
    assert result.code == 1, result
    assert "from the latest push to the fork fork-user/app, as GitHub recorded it" \
        in result.summary


def test_fresh_labels_never_excuses_a_forbidden_label(gate: Gate) -> None:
    pr = gate.fake.state.add_pull(REPO, at=T0, labels=["do-not-test"])
    gate.fake.state.push_commit(REPO, pr.number, at=T0 + timedelta(minutes=5))
    gate.pull_event(pr)
    result = gate.run(**{"none-of": "do-not-test", "fresh-labels": "true"})
    assert result.code == 1, result
    assert result.outputs["reason"] == "has forbidden label do-not-test (has: do-not-test)"


# ----- faults --------------------------------------------------------------------------------


def run_through_fault(gate: Gate, arm: Any) -> tuple[Result, float, Issue]:
    pr = gate.fake.state.add_pull(REPO, labels=["bug"])
    gate.pull_event(pr)
    arm(gate.fake)
    started = time.monotonic()
    result = gate.run(**{"all-of": "ready-for-merge", "comment": "true",
                         "on-mismatch": "skip"})
    return result, time.monotonic() - started, pr


def assert_one_comment_written(gate: Gate, pr: Issue) -> None:
    posts = gate.fake.requests("POST", COMMENTS)
    assert [r.status for r in posts if r.fault is None] == [201]
    assert [u for u, _ in gate.comments(pr.number)] == [BOT]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_two_502s_in_a_row(gate: Gate, method: str) -> None:
    result, _, pr = run_through_fault(gate, lambda f: f.fail_next(2, status=502, method=method))
    assert result.code == 0, result
    assert result.outputs["should-run"] == "false"
    assert annotations(result, "warning") == []
    assert [r.status for r in gate.fake.requests(method)][:3] == [502, 502, 200 if
                                                                  method == "GET" else 201]
    assert_one_comment_written(gate, pr)


def test_a_secondary_rate_limit_with_retry_after(gate: Gate) -> None:
    result, elapsed, pr = run_through_fault(
        gate, lambda f: f.secondary_rate_limit(retry_after=2, method="POST"))
    assert result.code == 0, result
    assert elapsed >= 2
    assert [(r.status, r.fault) for r in gate.fake.requests("POST")] == [
        (403, "secondary"), (201, None)]
    assert_one_comment_written(gate, pr)


def test_an_exhausted_primary_limit_resetting_in_3s(gate: Gate) -> None:
    result, elapsed, pr = run_through_fault(gate, lambda f: f.exhaust_primary(reset_in=3))
    assert result.code == 0, result
    assert elapsed >= 3
    first = gate.fake.requests()[0]
    assert (first.status, first.fault) == (403, "primary")
    assert_one_comment_written(gate, pr)


def test_an_unreadable_repository_is_a_failure_that_says_so(gate: Gate) -> None:
    gate.env["GITHUB_REPOSITORY"] = "octo/missing"
    result = gate.run(**{"all-of": "x", "pr-number": "1"})
    assert result.code == 1, result
    [error] = result.errors()
    assert error.message == (
        "could not read the pull request's labels: not found: it does not exist, or the token "
        "cannot see it (HTTP 404: Not Found)")
    # Outputs are set in every case, so a later `if: failure()` step can read why.
    assert result.outputs == {"should-run": "false", "labels": "[]", "matched": "[]",
                              "reason": error.message}


@pytest.mark.parametrize("path", [r"/repos/[^/]+/[^/]+/commits/\w+",
                                  r"/repos/[^/]+/[^/]+/issues/\d+/events"])
def test_a_404_after_the_pull_request_was_read_is_not_an_issue(gate: Gate, path: str) -> None:
    """Only a 404 for the pull request itself means "not a pull request"; one from
    reading its events or head commit is a failure to read GitHub."""
    pr = gate.fake.state.add_pull(REPO, labels=["ready"])
    gate.pull_event(pr)
    gate.fake.fail_next(1, 404, path=path)
    result = gate.run(**{"all-of": "ready", "fresh-labels": "true"})
    assert result.code == 1, result
    [error] = result.errors()
    assert error.message.startswith("could not read the pull request's labels: not found")
    assert annotations(result, "notice") == []
    # With pr-number given, it is not a bad pr-number either.
    gate.fake.fail_next(1, 404, path=path)
    again = gate.run(**{"all-of": "ready", "fresh-labels": "true", "pr-number": str(pr.number)})
    assert again.code == 1, again
    assert "pr-number" not in again.errors()[0].message


def test_requests_a_gate_spends(gate: Gate) -> None:
    """The PR (its labels are in it: live, not the payload's); nothing else."""
    pr = gate.fake.state.add_pull(REPO, labels=["ready"])
    gate.pull_event(pr)
    assert gate.run(**{"all-of": "ready"}).code == 0
    assert [(r.method, r.path) for r in gate.fake.requests()] == [
        ("GET", f"/repos/{REPO}/pulls/{pr.number}")]
    gate.fake.reset_log()
    gate.run(**{"all-of": "ready", "fresh-labels": "true"})
    assert [(r.method, r.path) for r in gate.fake.requests()] == [
        ("GET", f"/repos/{REPO}/pulls/{pr.number}"),
        ("GET", f"/repos/{REPO}/issues/{pr.number}/events"),
        ("GET", f"/repos/{REPO}/commits/{pr.pull.head_sha}")]  # type: ignore[union-attr]


def test_requests_of_a_push(gate: Gate) -> None:
    pr = gate.fake.state.add_pull(REPO, head_ref="feature", labels=["ready"])
    assert pr.pull is not None
    gate.event("push", {"ref": "refs/heads/feature"}, GITHUB_SHA=pr.pull.head_sha,
               GITHUB_REF="refs/heads/feature", GITHUB_REF_NAME="feature")
    assert gate.run(**{"all-of": "ready"}).code == 0
    assert [(r.method, r.path) for r in gate.fake.requests()] == [
        ("GET", f"/repos/{REPO}/commits/{pr.pull.head_sha}/pulls"),
        ("GET", f"/repos/{REPO}/pulls/{pr.number}")]


def test_a_comment_applied_whose_answer_was_lost_is_kept_once(gate: Gate) -> None:
    result, _, pr = run_through_fault(gate, lambda f: f.apply_then_fail(1, 502, method="POST"))
    assert result.code == 0, result
    assert [(r.status, r.fault) for r in gate.fake.requests("POST")] == [
        (502, "applied"), (201, None)]
    assert annotations(result, "warning") == []
    assert [u for u, _ in gate.comments(pr.number)] == [BOT]  # the retry's copy removed


def test_our_marker_quoted_in_another_of_our_comments_is_not_ours(gate: Gate) -> None:
    """pr-comment's summary may quote a test's failure message holding label-gate's
    marker: label-gate must neither edit nor delete that comment."""
    state = gate.fake.state
    pr = state.add_pull(REPO, labels=["bug"])
    marker = hidden_marker("label-gate", f"ci/{gate.env['GITHUB_JOB']}")
    summary = (f"{hidden_marker('pr-comment', 'CI/summary')}\n```text\nAssertionError: "
               f"{marker}\n```")
    state.add_comment(REPO, pr.number, summary, user=BOT)
    gate.pull_event(pr)
    rules = {"all-of": "ready", "comment": "true"}
    assert gate.run(**rules).code == 1
    assert [b.partition("\n")[0] for _, b in gate.comments(pr.number)] == [
        hidden_marker("pr-comment", "CI/summary"), marker]
    label(gate.fake, pr, "ready", T0)
    assert gate.run(**rules).code == 0
    assert gate.comments(pr.number) == [(BOT, summary)]


def test_comment_author_for_an_app_token(gate: Gate) -> None:
    state = gate.fake.state
    pr = state.add_pull(REPO, labels=["bug"])
    marker = hidden_marker("label-gate", f"ci/{gate.env['GITHUB_JOB']}")
    old = state.add_comment(REPO, pr.number, f"{marker}\nold", user=BOT)
    gate.pull_event(pr)
    result = gate.run(**{"all-of": "ready", "comment": "true", "comment-author": BOT})
    assert result.code == 1, result
    assert [c.id for c in state.comments(REPO, pr.number)] == [old.id]
    assert not gate.fake.requests("GET", "/user")
    assert not gate.fake.requests("POST")


def test_a_quoted_label_with_a_comma_on_one_line(gate: Gate) -> None:
    pr = gate.fake.state.add_pull(REPO, labels=["area: api, db"])
    gate.pull_event(pr)
    result = gate.run(**{"any-of": 'bug, "area: api, db"'})
    assert result.code == 0, result
    assert result.json_output("matched") == ["area: api, db"]
