"""The jobs of a workflow run and their results: the one model every action that
reports on a run reads (pr-comment's table and verdict today; failure-issue and
notify-email next). Its first source is the `needs` context,
`${{ toJSON(needs) }}`:

    {"build": {"result": "success", "outputs": {}}, "test": {"result": "failure", ...}}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RESULTS = ("success", "failure", "cancelled", "skipped")
ICONS = {"success": "✅", "failure": "❌", "cancelled": "🚫", "skipped": "⏭️"}
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
