"""The verdict on a run's jobs in no one's words (`RunOutcome`): the rules failure-issue
and notify-email decide by, and pr-comment words for a pull request."""

from __future__ import annotations

import pytest

from stackci.core.runner.jobs import JobResult, RunOutcome, parse_needs


def jobs(**results: str) -> tuple[JobResult, ...]:
    return tuple(JobResult(job, result) for job, result in results.items())


@pytest.mark.parametrize(("results", "status"), [
    ({"build": "success", "test": "success"}, "success"),
    ({"build": "success", "deploy": "skipped"}, "success"),  # an `if:` doing its work
    ({"build": "success", "test": "failure"}, "failure"),
    ({"build": "cancelled", "test": "failure"}, "failure"),  # a failure wins
    ({"build": "success", "test": "cancelled"}, "neutral"),
    ({"build": "skipped", "test": "skipped"}, "neutral"),  # nothing ran
    ({}, "neutral"),
])
def test_status(results: dict[str, str], status: str) -> None:
    assert RunOutcome.of(jobs(**results)).status == status


def test_jobs_by_result_in_the_order_given() -> None:
    outcome = RunOutcome.of(parse_needs({
        "lint": {"result": "failure"}, "build": {"result": "success"},
        "e2e": {"result": "failure"}, "docs": {"result": "skipped"},
        "deploy": {"result": "cancelled"}}))
    assert outcome == RunOutcome(failed=("lint", "e2e"), cancelled=("deploy",),
                                 skipped=("docs",), succeeded=("build",))
    assert outcome.total == 5
    assert not outcome.all_succeeded


def test_all_succeeded_is_stricter_than_success() -> None:
    with_skip = RunOutcome.of(jobs(build="success", deploy="skipped"))
    assert with_skip.status == "success"
    assert not with_skip.all_succeeded
    assert RunOutcome.of(jobs(build="success")).all_succeeded
