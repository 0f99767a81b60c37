"""The jobs of a workflow run and their results: the one model every action that
reports on a run reads (pr-comment's table and verdict today; failure-issue and
notify-email next). Its first source is the `needs` context,
`${{ toJSON(needs) }}`:

    {"build": {"result": "success", "outputs": {}}, "test": {"result": "failure", ...}}

`RunOutcome` is the verdict on a run's jobs in no one's words: `failure`, `success` or
`neutral`. Each action words it for its readers (pr-comment: "Ready to merge").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

RESULTS = ("success", "failure", "cancelled", "skipped")
ICONS = {"success": "✅", "failure": "❌", "cancelled": "🚫", "skipped": "⏭️"}
Status = Literal["failure", "success", "neutral"]
NEEDS_EXPECTED = ('the JSON of `${{ toJSON(needs) }}`: an object of jobs, each with a '
                  '"result" (success, failure, cancelled or skipped)')


@dataclass(frozen=True)
class JobResult:
    job: str
    result: str  # one of RESULTS

    @property
    def icon(self) -> str:
        return ICONS.get(self.result, "❔")


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
