"""The verdict the comment renders and the quality gate applies: re-actors/alls-green's
rules for the needed jobs, and the tests on top."""

from __future__ import annotations

import pytest

from stackci.core.runner.jobs import Allowances, JobResult, parse_job_names, unknown_jobs
from stackci.report.comment import CommentData, judge, render_comment
from stackci.report.junit import Failure
from stackci.report.junit import TestTotals as Totals
from stackci.report.needs import verdict


def jobs(**results: str) -> tuple[JobResult, ...]:
    return tuple(JobResult(name.replace("_", "-"), result) for name, result in results.items())


# Each row: the results, allowed-skips, allowed-failures, green? (alls-green's rules,
# from its normalize_needed_jobs_status.py, except that a job in both lists may fail).
RULES = [
    ({"a": "success", "b": "success"}, "", "", True),
    ({"a": "success", "b": "skipped"}, "", "", False),  # a skip is not a success
    ({"a": "success", "b": "cancelled"}, "", "", False),
    ({"a": "success", "b": "skipped"}, "b", "", True),
    ({"a": "success", "b": "failure"}, "b", "", False),  # a skip allowed, not a failure
    ({"a": "success", "b": "cancelled"}, "b", "", False),
    ({"a": "success", "b": "failure"}, "", "b", True),
    ({"a": "success", "b": "cancelled"}, "", "b", True),
    ({"a": "success", "b": "skipped"}, "", "b", True),  # may fail, so may be skipped
    ({"a": "skipped", "b": "skipped"}, "a,b", "", True),
    ({"a": "failure", "b": "failure"}, "b", "b", False),  # `a` is still required
    ({"a": "success", "b": "failure"}, "b", "b", True),  # in both: may fail
]


@pytest.mark.parametrize(("results", "skips", "failures", "green"), RULES)
def test_alls_green_rules(results: dict[str, str], skips: str, failures: str,
                          green: bool) -> None:
    allowed = Allowances(frozenset(parse_job_names(skips)),
                         frozenset(parse_job_names(failures)))
    decision = verdict(jobs(**results), allowances=allowed)
    assert decision.ready is green
    assert decision.headline == ("✅ Ready to merge" if green else "❌ Not ready to merge")


def test_the_table_says_what_was_allowed() -> None:
    data = CommentData(jobs=jobs(build="success", docs="skipped", flaky="failure",
                                 e2e="skipped"),
                       allowances=Allowances(frozenset({"docs"}), frozenset({"flaky"})))
    text = render_comment(data)
    assert "### ❌ Not ready to merge" in text  # e2e's skip is not allowed
    assert "| `docs` | ⏭️ skipped (allowed to be skipped) |" in text
    assert "| `flaky` | ❌ failure (allowed to fail) |" in text
    assert "| `e2e` | ⏭️ skipped |" in text
    assert ("1 of 4 jobs did not succeed: 1 skipped (`e2e`). Allowed not to: 1 failed "
            "(`flaky`); 1 skipped (`docs`).") in text


def test_an_allowed_skip_is_green_and_says_so() -> None:
    decision = verdict(jobs(build="success", docs="skipped"),
                       allowances=Allowances(skips=frozenset({"docs"})))
    assert decision.ready
    assert decision.explanation == "1 of 2 jobs succeeded. Allowed not to: 1 skipped (`docs`)."
    assert [j.job for j in decision.allowed] == ["docs"]


def test_failed_tests_fail_it_although_every_job_succeeded() -> None:
    failures = (Failure("tests.test_api.test_status", "failed", "m", "", "r.xml"),)
    data = CommentData(jobs=jobs(test="success"),
                       tests=Totals(passed=3, failed=1, failures=failures, files=("r.xml",)))
    decision = judge(data)
    assert decision is not None
    assert not decision.ready
    assert decision.gate_failure() == (
        "Quality gate: not green: 1 test failed (tests.test_api.test_status).")


def test_the_gate_failure_is_one_line_naming_jobs_and_tests() -> None:
    names = [f"t{i}\n::error::x" for i in range(7)]
    decision = verdict(jobs(build="success", integration="failure", e2e="skipped",
                            deploy="cancelled"), tuple(names), 1, "1 JUnit pattern matched no file")
    message = decision.gate_failure()
    assert "\n" not in message
    assert message == (
        "Quality gate: not green: job integration failed; job e2e was skipped; job deploy "
        "was cancelled; 7 tests failed (t0 ::error::x, t1 ::error::x, t2 ::error::x, "
        "t3 ::error::x, t4 ::error::x and 2 more); the tests cannot be confirmed: 1 JUnit "
        "pattern matched no file.")


def test_tests_alone_are_judged_without_needs() -> None:
    assert judge(CommentData()) is None
    green = judge(CommentData(tests=Totals(passed=2, files=("r.xml",))))
    assert green is not None
    assert green.ready
    unreadable = judge(CommentData(tests=Totals(unreadable=(("r.xml", "bad"),))))
    assert unreadable is not None
    assert not unreadable.ready


def test_a_run_not_about_a_pull_request_is_worded_for_the_pipeline() -> None:
    assert verdict(jobs(a="success"), for_pull=False).headline == "✅ All green"
    assert verdict(jobs(a="failure"), for_pull=False).headline == "❌ Not green"


def test_matrix_legs_are_judged_by_their_jobs_name() -> None:
    legs = (JobResult("test (3.12)", "failure"), JobResult("test (3.13)", "success"))
    assert verdict(legs, allowances=Allowances(failures=frozenset({"test"}))).ready
    assert unknown_jobs(("test", "tset"), legs) == ("tset",)


@pytest.mark.parametrize(("text", "names"), [
    ("a, b\nc", ("a", "b", "c")),
    ('["a", " b "]', ("a", "b")),
    ("[]", ()),
])
def test_job_name_lists(text: str, names: tuple[str, ...]) -> None:
    assert parse_job_names(text) == names


@pytest.mark.parametrize("text", ['["a"', '["a", 1]', '[["a"]]'])
def test_job_name_lists_that_are_not(text: str) -> None:
    with pytest.raises(ValueError, match="job names"):
        parse_job_names(text)
