"""The verdict a reviewer reads first, on the jobs this one needs, worded for a pull
request: the run's outcome (`core.runner.jobs.RunOutcome`) with the PR's stricter rule,
"Ready to merge" only when every job succeeded (a skipped or cancelled job is not a
success: what it would have checked is unknown) and the tests confirm it."""

from __future__ import annotations

from dataclasses import dataclass

from stackci.core.runner.jobs import NEEDS_EXPECTED, RESULTS, JobResult, RunOutcome, parse_needs
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
    outcome = RunOutcome.of(jobs)
    parts = []
    for word, names in (("failed", outcome.failed), ("cancelled", outcome.cancelled),
                        ("skipped", outcome.skipped)):
        if names:
            parts.append(f"{len(names)} {word} ({', '.join(map(inline_code, names))})")
    not_ok = outcome.total - len(outcome.succeeded)
    if not_ok:
        explanation = f"{not_ok} of {outcome.total} jobs did not succeed: {'; '.join(parts)}."
    else:
        many = f"All {outcome.total} jobs" if outcome.total > 1 else "The job"
        explanation = f"{many} succeeded."
    if failing_tests:
        noun = "test" if failing_tests == 1 else "tests"
        explanation += f" {failing_tests:,} {noun} failed (below)."
    if unconfirmed:
        why = unconfirmed_why or f"{unconfirmed} test result source(s) could not be read"
        explanation += f" The tests cannot be confirmed: {why} (below)."
    if not outcome.all_succeeded or failing_tests or unconfirmed:
        return Verdict(False, "❌ Not ready to merge", explanation)
    return Verdict(True, "✅ Ready to merge", explanation)
