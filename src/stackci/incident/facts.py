"""Gathering what failure-issue says of a run: its jobs (from `needs`, or this attempt's
jobs from the jobs API), its commit, the runs before it on the same branch (how many
failed or passed in a row, and since when it is broken), and the last lines of the failed
jobs' logs. Reads only; the tracker writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from github import GithubException

from stackci.core.github.runs import (
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
from stackci.core.text.redact import Secrets
from stackci.incident.model import BrokenSince, RunFacts
from stackci.incident.render import LOG_LINES, MAX_LOGS

T = TypeVar("T")
HISTORY = 50  # earlier runs looked at for "broken since"
COMMITS = 20  # commits listed between the last green run and this one


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
           status: str, history: int, secrets: Secrets) -> RunFacts:
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
    commit = _unless_missing(lambda: commit_info(session.repo, facts.sha)) if facts.sha else None
    earlier = (_unless_missing(lambda: list(earlier_runs(session.client, session.repo, run,
                                                         history))) or []) if run else []
    failures, successes = streaks(verdict, earlier)
    since = _unless_missing(lambda: broken_since(session, run, earlier)) \
        if run and verdict == "failure" else None
    logs = {}
    for job in facts.failed[:MAX_LOGS] if verdict == "failure" else ():
        if job.job_id is not None:
            text = log_tail(session.repo, job.job_id, LOG_LINES, session.deadline)
            if text:
                logs[job.job] = secrets.redact_text(text)
    return RunFacts(**{**facts.__dict__, "commit": commit, "broken_since": since,
                       "logs": logs, "failures_in_a_row": failures,
                       "successes_in_a_row": successes})
