"""A workflow run as the reporting actions tell it (failure-issue, notify-email): its
jobs (from `needs`, or this attempt's jobs from the jobs API), its status, its commit,
the runs before it on the same branch (the previous one's result, how many failed or
passed in a row, since when it is broken), and the last lines of the failed jobs' logs.
Reads only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from github import GithubException

from stackci.core.github.runs import (
    CommitInfo,
    Comparison,
    RunInfo,
    attempt_jobs,
    commit_info,
    compare,
    earlier_runs,
    log_tail,
    this_run,
)
from stackci.core.github.session import GitHubSession
from stackci.core.runner.context import RunContext
from stackci.core.runner.jobs import JobResult, RunOutcome, Status
from stackci.core.text import markdown as md
from stackci.core.text.redact import Secrets

T = TypeVar("T")
# Placeholders made of GitHub's numbers, hex and owner/name (no Markdown syntax in them).
_TRUSTED = frozenset({"repository", "sha", "sha7", "run_number", "run_attempt", "run_url"})
# The names `RunFacts.values` gives: the placeholders of every reporting action's templates.
PLACEHOLDERS = ("repository", "workflow", "job", "branch", "sha", "sha7", "commit_title",
                "commit_author",
                "run_number", "run_attempt", "run_url", "actor", "event", "failed_jobs",
                "failed_job")
HISTORY = 50  # earlier runs looked at for "broken since"
COMMITS = 20  # commits listed between the last green run and this one


@dataclass(frozen=True)
class BrokenSince:
    last_green: RunInfo | None  # None: no green run in the runs looked at
    first_failing: RunInfo  # the oldest failing run after it (maybe this one)
    comparison: Comparison | None  # the commits from the last green run to this one


@dataclass(frozen=True)
class RunFacts:
    """This run as the issue tells it."""

    repository: str
    workflow: str
    branch: str
    run_id: str
    run_number: str
    run_attempt: str
    run_url: str
    event: str
    actor: str
    sha: str
    server_url: str
    status: Status
    jobs: tuple[JobResult, ...]
    commit: CommitInfo | None = None
    broken_since: BrokenSince | None = None
    logs: dict[str, str] = field(default_factory=dict)  # job name -> its last lines
    failures_in_a_row: int = 1  # this run included
    successes_in_a_row: int = 1
    previous_conclusion: str | None = None  # of the last completed run before it

    @property
    def failed(self) -> tuple[JobResult, ...]:
        return tuple(j for j in self.jobs if j.result == "failure")

    def markdown_values(self, job: str = "", failed_job: str = "") -> dict[str, str]:
        """The placeholders' values for Markdown: what a user or a run controls (names,
        branches, commit messages) escaped; what GitHub's own addresses and numbers are
        made of kept as is, so `[run]({run_url})` stays a link."""
        return {name: value if name in _TRUSTED else md.escape(value)
                for name, value in self.values(job, failed_job).items()}

    def values(self, job: str = "", failed_job: str = "") -> dict[str, str]:
        """The placeholders' values as plain text (outside text: escaped where it goes)."""
        return {
            "repository": self.repository, "workflow": self.workflow, "job": job,
            "branch": self.branch, "sha": self.sha, "sha7": self.sha[:7],
            "commit_title": self.commit.title if self.commit else "",
            "commit_author": self.commit.author if self.commit else "",
            "run_number": self.run_number, "run_attempt": self.run_attempt,
            "run_url": self.run_url, "actor": self.actor, "event": self.event,
            "failed_jobs": ", ".join(j.job for j in self.failed), "failed_job": failed_job,
        }


def event_commit(ctx: RunContext) -> CommitInfo | None:
    """The pushed commit as a push event's payload tells it (no API call)."""
    head = ctx.event.get("head_commit") or {}
    if not isinstance(head, dict) or not head.get("id"):
        return None
    author = head.get("author") or {}
    return CommitInfo(str(head["id"]), str(head.get("message") or "").partition("\n")[0],
                      str(author.get("username") or author.get("name") or ""),
                      str(head.get("url") or ""))


def without_api(ctx: RunContext, needs: tuple[JobResult, ...] | None,
                status: str) -> RunFacts:
    """The run from the context and `needs` alone (no token: no call to GitHub)."""
    jobs = needs or ()
    return RunFacts(
        repository=ctx.repository, workflow=ctx.workflow, branch=ctx.branch,
        run_id=ctx.run_id, run_number=ctx.run_number, run_attempt=ctx.run_attempt or "1",
        run_url=ctx.run_url, event=ctx.event_name, actor=ctx.actor, sha=ctx.sha,
        server_url=ctx.server_url, status=status_of(jobs, needs, status), jobs=jobs,
        commit=event_commit(ctx))


def run_jobs(session: GitHubSession, ctx: RunContext, run: RunInfo | None,
             needs: tuple[JobResult, ...] | None) -> tuple[JobResult, ...]:
    """The run's jobs: from the jobs API when this run can be read there (one row per
    matrix leg, with links), else from `needs`."""
    if run is not None:
        found = _unless_missing(lambda: attempt_jobs(session.client, session.repo, run.id,
                                                     run.attempt, leave_out=[ctx.job]))
        if found or (needs is None and found is not None):
            return found
    return needs or ()


def status_of(jobs: Sequence[JobResult], needs: tuple[JobResult, ...] | None,
              given: str) -> Status:
    if given in ("failure", "success"):
        return given  # type: ignore[return-value]
    return RunOutcome.of(tuple(needs if needs is not None else jobs)).status


def streaks(status: Status, earlier: Sequence[RunInfo]) -> tuple[int, int]:
    """Failures and successes in a row, this run included (cancelled or skipped runs
    between them neither break nor extend a streak)."""
    failures = successes = 0
    if status == "failure":
        failures = 1 + _in_a_row(earlier, "failure")
    elif status == "success":
        successes = 1 + _in_a_row(earlier, "success")
    return failures, successes


def _in_a_row(earlier: Sequence[RunInfo], conclusion: str) -> int:
    count = 0
    for run in earlier:
        if run.conclusion in ("cancelled", "skipped", "neutral", None):
            continue
        if (run.conclusion == "success") != (conclusion == "success"):
            break
        count += 1
    return count


def broken_since(session: GitHubSession, run: RunInfo,
                 earlier: Sequence[RunInfo]) -> BrokenSince:
    first_failing = run
    last_green = None
    for found in earlier:
        if found.conclusion == "success":
            last_green = found
            break
        if found.conclusion not in ("cancelled", "skipped", "neutral", None):
            first_failing = found
    comparison = None
    if last_green is not None and last_green.head_sha != run.head_sha:
        comparison = compare(session.repo, last_green.head_sha, run.head_sha, COMMITS)
    return BrokenSince(last_green, first_failing, comparison)


def _unless_missing(call: Callable[[], T]) -> T | None:
    """What `call` reads, or None when GitHub does not have it (404: a run or commit it
    does not know, as under act) or the token may not read it (403: no `actions: read`):
    the issue is then written without that part."""
    try:
        return call()
    except GithubException as exc:
        if exc.status in (403, 404, 410, 422):
            return None
        raise


def gather(session: GitHubSession, ctx: RunContext, *, needs: tuple[JobResult, ...] | None,
           status: str, history: int, secrets: Secrets, log_lines: int = 40,
           max_logs: int = 5) -> RunFacts:
    run = _unless_missing(lambda: this_run(session.repo, int(ctx.run_id))) \
        if ctx.run_id.isdigit() else None
    jobs = run_jobs(session, ctx, run, needs)
    verdict = status_of(jobs, needs, status)
    facts = RunFacts(
        repository=ctx.repository, workflow=ctx.workflow or (run.name if run else ""),
        branch=ctx.branch or (run.head_branch if run else ""), run_id=ctx.run_id,
        run_number=ctx.run_number or (str(run.number) if run else ""),
        run_attempt=ctx.run_attempt or "1", run_url=ctx.run_url, event=ctx.event_name,
        actor=ctx.actor, sha=ctx.sha or (run.head_sha if run else ""),
        server_url=ctx.server_url, status=verdict, jobs=jobs)
    if verdict == "neutral":
        return facts
    commit = (_unless_missing(lambda: commit_info(session.repo, facts.sha))
              if facts.sha else None) or event_commit(ctx)
    earlier = (_unless_missing(lambda: list(earlier_runs(session.client, session.repo, run,
                                                         history))) or []) if run else []
    failures, successes = streaks(verdict, earlier)
    since = _unless_missing(lambda: broken_since(session, run, earlier)) \
        if run and verdict == "failure" else None
    logs = {}
    for job in facts.failed[:max_logs] if verdict == "failure" else ():
        if job.job_id is not None:
            text = log_tail(session.repo, job.job_id, log_lines, session.deadline)
            if text:
                logs[job.job] = secrets.redact_text(text)
    previous = next((r.conclusion for r in earlier
                     if r.conclusion not in ("cancelled", "skipped", None)), None)
    return replace(facts, commit=commit, broken_since=since, logs=logs,
                   failures_in_a_row=failures, successes_in_a_row=successes,
                   previous_conclusion=previous)
