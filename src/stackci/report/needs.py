"""The verdict a reader sees first, and the quality gate's: one judgement of the jobs
this one needs (by re-actors/alls-green's rules, `core.runner.jobs.Allowances`) and of
the tests.

Green only when every job did what it must (succeeded, or an allowed skip or failure; a
skipped or cancelled job is otherwise not a success: what it would have checked is
unknown), no test failed (a job that swallowed its tests' failures does not make it
green), and every test result could be read. Worded for a pull request ("Ready to
merge") when the run is about one, else as the pipeline's ("All green")."""

from __future__ import annotations

from dataclasses import dataclass

from stackci.core.runner.jobs import (
    NEEDS_EXPECTED,
    RESULTS,
    Allowances,
    JobResult,
    parse_needs,
)
from stackci.core.text.markdown import inline_code, one_line

__all__ = ["EXPECTED", "RESULTS", "Allowances", "JobResult", "Verdict", "parse_needs",
           "verdict"]

EXPECTED = NEEDS_EXPECTED
NO_ALLOWANCES = Allowances()
# In the gate's one line: enough names to act on; the summary has them all.
MAX_TESTS_NAMED = 5
_DID = {"failure": "failed", "cancelled": "cancelled", "skipped": "skipped"}
HEADLINES = {(True, True): "✅ Ready to merge", (False, True): "❌ Not ready to merge",
             (True, False): "✅ All green", (False, False): "❌ Not green"}


@dataclass(frozen=True)
class Verdict:
    ready: bool
    headline: str  # "✅ Ready to merge"
    explanation: str  # Markdown, a sentence or two
    blocking: tuple[JobResult, ...] = ()  # the jobs that make it not ready
    allowed: tuple[JobResult, ...] = ()  # did not succeed, and were allowed not to
    failing_tests: tuple[str, ...] = ()  # the names of the tests that failed (untrusted)
    unconfirmed_why: str = ""  # why the tests cannot be confirmed, when they cannot

    def gate_failure(self) -> str:
        """The quality gate's one line (plain text): which jobs and tests failed it."""
        parts = [f"job {one_line(j.job)} {_did(j)}" for j in self.blocking]
        if self.failing_tests:
            names = [one_line(n)[:200] for n in self.failing_tests[:MAX_TESTS_NAMED]]
            rest = len(self.failing_tests) - len(names)
            listed = ", ".join(names) + (f" and {rest:,} more" if rest else "")
            parts.append(f"{_count(len(self.failing_tests), 'test')} failed ({listed})")
        if self.unconfirmed_why:
            parts.append(f"the tests cannot be confirmed: {self.unconfirmed_why}")
        return "Quality gate: not green: " + "; ".join(parts) + "."


def verdict(jobs: tuple[JobResult, ...] | None, failing_tests: int | tuple[str, ...] = 0,
            unconfirmed: int = 0, unconfirmed_why: str = "", *,
            allowances: Allowances = NO_ALLOWANCES, for_pull: bool = True) -> Verdict:
    """The judgement of `jobs` (None: only the tests are judged) and of the tests:
    `failing_tests` (their names, or only how many), `unconfirmed` result sources that
    could not be read (files that are not usable, patterns that found none: either may
    hide failures), `unconfirmed_why` saying which."""
    names = failing_tests if isinstance(failing_tests, tuple) else ()
    failing = len(names) if isinstance(failing_tests, tuple) else failing_tests
    jobs = jobs or ()
    blocking = tuple(j for j in jobs if allowances.judge(j) == "blocking")
    allowed = tuple(j for j in jobs if allowances.judge(j) == "allowed")
    sentences = [_jobs_sentence(jobs, blocking, allowed)] if jobs else []
    if failing:
        noun = "test" if failing == 1 else "tests"
        sentences.append(f"{failing:,} {noun} failed (below).")
    why = ""
    if unconfirmed:
        why = unconfirmed_why or f"{unconfirmed} test result source(s) could not be read"
        sentences.append(f"The tests cannot be confirmed: {why} (below).")
    ready = not (blocking or failing or unconfirmed)
    return Verdict(ready, HEADLINES[ready, for_pull], " ".join(sentences), blocking, allowed,
                   names, why)


def _jobs_sentence(jobs: tuple[JobResult, ...], blocking: tuple[JobResult, ...],
                   allowed: tuple[JobResult, ...]) -> str:
    total = len(jobs)
    if blocking:
        text = (f"{len(blocking)} of {total} jobs did not succeed: "
                f"{_by_result(blocking)}.")
    elif allowed:
        text = f"{total - len(allowed)} of {total} jobs succeeded."
    else:
        text = f"All {total} jobs succeeded." if total > 1 else "The job succeeded."
    if allowed:
        text += f" Allowed not to: {_by_result(allowed)}."
    return text


def _by_result(jobs: tuple[JobResult, ...]) -> str:
    parts = []
    for result in ("failure", "cancelled", "skipped"):
        names = [inline_code(j.job) for j in jobs if j.result == result]
        if names:
            parts.append(f"{len(names)} {_DID[result]} ({', '.join(names)})")
    return "; ".join(parts)


def _did(job: JobResult) -> str:
    did = _DID.get(job.result, job.result)
    return f"was {did}" if job.result in ("cancelled", "skipped") else did


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
