"""What failure-issue knows of a run, and the key of the issue it keeps: no GitHub calls
here (the tracker makes them), no rendering (render.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from stackci.core.github.runs import CommitInfo, Comparison, RunInfo
from stackci.core.github.sticky import hidden_marker
from stackci.core.runner.jobs import JobResult, Status

NAMESPACE = "failure-issue"
RUN_NAMESPACE = "failure-issue-run"
PLACEHOLDERS = ("repository", "workflow", "job", "branch", "sha", "sha7", "commit_title",
                "run_number", "run_attempt", "run_url", "actor", "event", "failed_jobs",
                "failed_job")


@dataclass(frozen=True)
class IssueKey:
    """One issue per repository, workflow and branch (and failed job, by job)."""

    repository: str
    workflow: str
    branch: str
    job: str = ""

    @property
    def marker(self) -> str:
        parts = [self.repository, self.workflow, self.branch] + ([self.job] if self.job else [])
        return hidden_marker(NAMESPACE, "|".join(parts))

    def job_of(self, marker: str) -> str | None:
        """The job of a marker of this key's workflow and branch ("" for the whole
        workflow's); None for any other marker."""
        base = IssueKey(self.repository, self.workflow, self.branch).marker
        if marker == base:
            return ""
        head = base.removesuffix(" -->") + quote("|")
        if not (marker.startswith(head) and marker.endswith(" -->")):
            return None
        return unquote(marker[len(head):].removesuffix(" -->"))


def run_marker(run_id: int | str) -> str:
    """Marks what one run wrote (the issue body's run line, or its comment): a re-run
    attempt finds it and edits it instead of writing again."""
    return hidden_marker(RUN_NAMESPACE, str(run_id))


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

    @property
    def failed(self) -> tuple[JobResult, ...]:
        return tuple(j for j in self.jobs if j.result == "failure")

    def values(self, job: str = "", failed_job: str = "") -> dict[str, str]:
        """The placeholders' values (outside text: escaped where it is inserted)."""
        return {
            "repository": self.repository, "workflow": self.workflow, "job": job,
            "branch": self.branch, "sha": self.sha, "sha7": self.sha[:7],
            "commit_title": self.commit.title if self.commit else "",
            "run_number": self.run_number, "run_attempt": self.run_attempt,
            "run_url": self.run_url, "actor": self.actor, "event": self.event,
            "failed_jobs": ", ".join(j.job for j in self.failed), "failed_job": failed_job,
        }
