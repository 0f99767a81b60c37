"""The jobs of a workflow run and their results: the one model every action that
reports on a run reads (pr-comment's table and verdict, failure-issue, notify-email).
Two sources fill it: the `needs` context, `${{ toJSON(needs) }}`:

    {"build": {"result": "success", "outputs": {}}, "test": {"result": "failure", ...}}

and the jobs API (`core.github.runs`), which adds each job's log link, times and failed
steps, and names every matrix leg (`test (3.12, ubuntu)`).

`RunOutcome` is the verdict on a run's jobs in no one's words: `failure`, `success` or
`neutral`. Each action words it for its readers (pr-comment: "Ready to merge").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

RESULTS = ("success", "failure", "cancelled", "skipped")
ICONS = {"success": "✅", "failure": "❌", "cancelled": "🚫", "skipped": "⏭️"}
Status = Literal["failure", "success", "neutral"]
NEEDS_EXPECTED = ('the JSON of `${{ toJSON(needs) }}`: an object of jobs, each with a '
                  '"result" (success, failure, cancelled or skipped)')


@dataclass(frozen=True)
class JobResult:
    job: str  # the job's name; a matrix leg's carries its values: `test (3.12)`
    result: str  # one of RESULTS
    # From the jobs API only:
    url: str = ""  # its log page
    started_at: float | None = None  # seconds since the epoch
    completed_at: float | None = None
    failed_steps: tuple[str, ...] = ()
    job_id: int | None = None

    @property
    def icon(self) -> str:
        return ICONS.get(self.result, "❔")

    @property
    def base_name(self) -> str:
        """The job's name without its matrix values: every leg of `test` shares it."""
        name, sep, rest = self.job.partition(" (")
        return name if sep and rest.endswith(")") else self.job

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.completed_at is None:
            return None
        return max(0.0, self.completed_at - self.started_at)


# The jobs API's conclusions, as results: a timed-out job failed; one that needed an
# approval it did not get did not run.
_CONCLUSIONS = {"success": "success", "failure": "failure", "cancelled": "cancelled",
                "skipped": "skipped", "timed_out": "failure", "startup_failure": "failure",
                "action_required": "skipped", "neutral": "success", "stale": "cancelled"}


def result_of(status: str, conclusion: str | None) -> str | None:
    """A jobs-API job's result; None while it has not completed (the reporting job
    itself, and jobs running beside it)."""
    if status != "completed" or not conclusion:
        return None
    return _CONCLUSIONS.get(conclusion, "failure")


def parse_needs(data: Any) -> tuple[JobResult, ...]:
    """Jobs in the order given. Raises ValueError (saying what was expected) otherwise."""
    if not isinstance(data, dict):
        raise ValueError(NEEDS_EXPECTED)  # noqa: TRY004 - reported as a bad input, not a bug
    if not data:
        raise ValueError(NEEDS_EXPECTED
                         + ", with at least one job (a job without `needs:` sees {})")
    jobs = []
    for job, entry in data.items():
        result = entry.get("result") if isinstance(entry, dict) else None
        if result not in RESULTS:
            raise ValueError(f"{NEEDS_EXPECTED}; job {job!r} has no valid result")
        jobs.append(JobResult(str(job), str(result)))
    return tuple(jobs)


@dataclass(frozen=True)
class RunOutcome:
    """The jobs of a run by result (names, in the order given), and its status:

    - `failure` when any job failed;
    - else `neutral` when one was cancelled, or when none succeeded (everything was
      skipped, or there were no jobs): nothing can be said of what they would have done;
    - else `success`: at least one job succeeded and none failed or was cancelled
      (skipped jobs beside successful ones are a job's `if:` doing its work).
    """

    failed: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    succeeded: tuple[str, ...] = ()

    @classmethod
    def of(cls, jobs: tuple[JobResult, ...]) -> RunOutcome:
        def named(result: str) -> tuple[str, ...]:
            return tuple(j.job for j in jobs if j.result == result)

        return cls(named("failure"), named("cancelled"), named("skipped"), named("success"))

    @property
    def status(self) -> Status:
        if self.failed:
            return "failure"
        if self.cancelled or not self.succeeded:
            return "neutral"
        return "success"

    @property
    def total(self) -> int:
        return len(self.failed) + len(self.cancelled) + len(self.skipped) + len(self.succeeded)

    @property
    def all_succeeded(self) -> bool:
        """No job failed, was cancelled or was skipped (a skipped job did not succeed:
        what it would have checked is unknown). Stricter than `status == "success"`."""
        return not (self.failed or self.cancelled or self.skipped)


Judged = Literal["ok", "allowed", "blocking"]


@dataclass(frozen=True)
class Allowances:
    """Which of the needed jobs may do other than succeed, by the rules of
    re-actors/alls-green (`allowed-failures`, `allowed-skips`):

    - a job in `failures` may end any way: failed, cancelled, skipped or succeeded;
    - a job in `skips` may be skipped (or succeed); failed or cancelled, it still counts;
    - every other job must succeed: skipped or cancelled is not a success.

    A job in both lists may fail (alls-green's code would hold it to its skip). Names
    are job ids as `needs` has them; a matrix leg from the jobs API (`test (3.12)`) is
    judged by its job's name (`test`)."""

    skips: frozenset[str] = frozenset()
    failures: frozenset[str] = frozenset()

    def judge(self, job: JobResult) -> Judged:
        if job.result == "success":
            return "ok"
        names = {job.job, job.base_name}
        if names & self.failures:
            return "allowed"
        if job.result == "skipped" and names & self.skips:
            return "allowed"
        return "blocking"


def unknown_jobs(names: tuple[str, ...], jobs: tuple[JobResult, ...]) -> tuple[str, ...]:
    """The `names` that are none of `jobs` (a typo, a renamed job), in the order given."""
    known = {j.job for j in jobs} | {j.base_name for j in jobs}
    return tuple(dict.fromkeys(n for n in names if n not in known))


JOB_NAMES = "job names from `needs`, one per line, comma-separated or a JSON list"


def parse_job_names(text: str) -> tuple[str, ...]:
    """Job names one per line or comma-separated, or a JSON list (alls-green's form).
    Raises ValueError (saying what was expected) otherwise."""
    if not text.startswith("["):
        return tuple(item.strip() for item in re.split(r"[\n,]", text) if item.strip())
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
        raise ValueError(JOB_NAMES)
    return tuple(item.strip() for item in data if item.strip())
