"""The verdict a reviewer reads first, on the jobs this one needs (their model is
`core.runner.jobs`): "Ready to merge" only when every job succeeded (a skipped or
cancelled job is not a success: what it would have checked is unknown)."""

from __future__ import annotations

from dataclasses import dataclass

from stackci.core.runner.jobs import NEEDS_EXPECTED, RESULTS, JobResult, parse_needs
from stackci.core.text.markdown import inline_code

__all__ = ["EXPECTED", "RESULTS", "JobResult", "Verdict", "parse_needs", "verdict"]

EXPECTED = NEEDS_EXPECTED


@dataclass(frozen=True)
class Verdict:
    ready: bool
    headline: str  # "✅ Ready to merge"
    explanation: str  # Markdown, one sentence


def verdict(jobs: tuple[JobResult, ...], failing_tests: int = 0, unconfirmed: int = 0,
            unconfirmed_why: str = "") -> Verdict:
    """Ready only when every job succeeded, no test failed, and every test result could
    be read: a job that swallowed its tests' failures (`continue-on-error`, `|| true`)
    does not make a PR ready, nor does a result file that could not be read or a pattern
    that found none (`unconfirmed`, `unconfirmed_why` saying which), since either may
    hide failures."""
    parts = []
    for result in ("failure", "cancelled", "skipped"):
        names = [inline_code(j.job) for j in jobs if j.result == result]
        if names:
            word = {"failure": "failed", "cancelled": "cancelled", "skipped": "skipped"}[result]
            parts.append(f"{len(names)} {word} ({', '.join(names)})")
    not_ok = len(jobs) - sum(j.result == "success" for j in jobs)
    if not_ok:
        explanation = f"{not_ok} of {len(jobs)} jobs did not succeed: {'; '.join(parts)}."
    else:
        many = f"All {len(jobs)} jobs" if len(jobs) > 1 else "The job"
        explanation = f"{many} succeeded."
    if failing_tests:
        noun = "test" if failing_tests == 1 else "tests"
        explanation += f" {failing_tests:,} {noun} failed (below)."
    if unconfirmed:
        why = unconfirmed_why or f"{unconfirmed} test result source(s) could not be read"
        explanation += f" The tests cannot be confirmed: {why} (below)."
    if not_ok or failing_tests or unconfirmed:
        return Verdict(False, "❌ Not ready to merge", explanation)
    return Verdict(True, "✅ Ready to merge", explanation)
