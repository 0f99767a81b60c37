"""Workflow runs through the Actions API: this run, the jobs of one attempt (the jobs-API
source of `core.runner.jobs`), the last lines of a job's log, the runs of the same
workflow on a branch before this one, and the commits between two of them. Every call
goes through the session's client, so its deadline and retries apply."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from github import Github
from github.Commit import Commit
from github.PaginatedList import PaginatedList
from github.Repository import Repository
from github.WorkflowJob import WorkflowJob
from github.WorkflowRun import WorkflowRun

from stackci.core.runner.deadline import Deadline
from stackci.core.runner.jobs import JobResult, result_of

PER_PAGE = 100
LOG_TIMEOUT = 20.0  # seconds for one log download, within the session's deadline
MAX_LOG_BYTES = 8 * 1024 * 1024  # a job log beyond this is read only to here


@dataclass(frozen=True)
class RunInfo:
    id: int
    number: int
    attempt: int
    workflow_id: int
    name: str
    head_sha: str
    head_branch: str
    event: str
    actor: str
    status: str
    conclusion: str | None
    url: str
    created_at: float | None

    @classmethod
    def of(cls, run: WorkflowRun) -> RunInfo:
        actor = run.raw_data.get("actor") or {}
        return cls(run.id, run.run_number, int(run.raw_data.get("run_attempt") or 1),
                   int(run.workflow_id), run.name or "", run.head_sha, run.head_branch or "",
                   run.event or "", str(actor.get("login") or ""), run.status or "",
                   run.conclusion, run.html_url, _seconds(run.created_at))


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    title: str  # the first line of its message
    author: str  # login when GitHub knows it, else the git author's name
    url: str

    @classmethod
    def of(cls, commit: Commit) -> CommitInfo:
        data = commit.raw_data
        message = str((data.get("commit") or {}).get("message") or "")
        login = (data.get("author") or {}).get("login")
        name = ((data.get("commit") or {}).get("author") or {}).get("name")
        return cls(commit.sha, message.partition("\n")[0].strip(), str(login or name or ""),
                   str(data.get("html_url") or ""))


@dataclass(frozen=True)
class Comparison:
    url: str
    total: int
    commits: tuple[CommitInfo, ...]  # oldest first, at most the limit asked for


def this_run(repo: Repository, run_id: int) -> RunInfo:
    return RunInfo.of(repo.get_workflow_run(run_id))


def attempt_jobs(client: Github, repo: Repository, run_id: int, attempt: int,
                 leave_out: Iterable[str] = ()) -> tuple[JobResult, ...]:
    """The jobs of one attempt of the run that have completed (the reporting job and
    those still running beside it have no result yet), one entry per matrix leg."""
    url = f"{repo.url}/actions/runs/{run_id}/attempts/{attempt}/jobs"
    listed: PaginatedList[WorkflowJob] = PaginatedList(
        WorkflowJob, client.requester, url, {"per_page": PER_PAGE}, list_item="jobs")
    skip = set(leave_out)
    found = []
    for job in listed:
        result = result_of(job.status, job.conclusion)
        if result is None or job.name in skip:
            continue
        failed = tuple(step.name for step in job.steps
                       if step.conclusion in ("failure", "timed_out"))
        found.append(JobResult(job.name, result, url=job.html_url or "",
                               started_at=_seconds(job.started_at),
                               completed_at=_seconds(job.completed_at),
                               failed_steps=failed, job_id=job.id))
    return tuple(found)


def log_tail(repo: Repository, job_id: int, lines: int, deadline: Deadline) -> str | None:
    """The last `lines` lines of a job's log; None when it cannot be read (no
    `actions: read`, expired, or no time left)."""
    remaining = deadline.remaining()
    if remaining < 1:
        return None
    try:
        # GitHub answers with a redirect to a short-lived, pre-signed download URL.
        location = repo.get_workflow_job(job_id).logs_url()
        if not location:
            return None
        with requests.get(location, timeout=min(LOG_TIMEOUT, remaining), stream=True) as got:
            if got.status_code != 200:
                return None
            data = b""
            for chunk in got.iter_content(64 * 1024):
                data += chunk
                if len(data) > MAX_LOG_BYTES:
                    data = data[-MAX_LOG_BYTES:]
    except Exception:  # noqa: BLE001 - an excerpt is a nicety: any failure leaves it out
        return None
    text = data.decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


def earlier_runs(client: Github, repo: Repository, run: RunInfo,
                 limit: int) -> Iterator[RunInfo]:
    """Completed runs of the same workflow on the same branch before `run`, newest
    first, at most `limit`."""
    url = f"{repo.url}/actions/workflows/{run.workflow_id}/runs"
    params: dict[str, Any] = {"branch": run.head_branch, "status": "completed",
                              "per_page": min(PER_PAGE, max(limit, 1)),
                              "exclude_pull_requests": "true"}
    listed: PaginatedList[WorkflowRun] = PaginatedList(
        WorkflowRun, client.requester, url, params, list_item="workflow_runs")
    given = 0
    for found in listed:
        if given >= limit:
            return
        if found.id == run.id or found.run_number >= run.number:
            continue
        given += 1
        yield RunInfo.of(found)


def compare(repo: Repository, base: str, head: str, limit: int) -> Comparison:
    found = repo.compare(base, head)
    commits = []
    for commit in found.commits:
        commits.append(CommitInfo.of(commit))
    total = int(found.total_commits)
    # GitHub lists them oldest first: the last `limit` are the newest.
    return Comparison(found.html_url, total, tuple(commits[-limit:]) if limit else ())


def commit_info(repo: Repository, sha: str) -> CommitInfo:
    return CommitInfo.of(repo.get_commit(sha))


def _seconds(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None
