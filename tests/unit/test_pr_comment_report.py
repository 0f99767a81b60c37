"""Reading JUnit, Cobertura and `toJSON(needs)`, and fitting a comment under GitHub's
limit: the pure parts of pr-comment."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from stackci.report.comment import (
    CommentData,
    _BlockState,
    fit_comment,
    render_comment,
    render_failure,
    truncation_note,
)
from stackci.report.coverage import read_coverage
from stackci.report.files import expand_globs
from stackci.report.junit import Failure, read_junit
from stackci.report.needs import JobResult, parse_needs, verdict
from stackci.report.xmlsafe import UnreadableReport, parse_xml

DATA = Path(__file__).resolve().parents[1] / "data" / "pr-comment"
LIMIT = 65_536


# ----- JUnit -------------------------------------------------------------------------------


def test_testsuites_root_and_bare_testsuite_are_summed() -> None:
    totals = read_junit([DATA / "junit-green.xml", DATA / "junit-more.xml"], DATA)
    # 6 + 3 cases; one skipped; the Surefire flakyFailure is a pass in the end.
    assert (totals.passed, totals.failed, totals.errors, totals.skipped) == (8, 0, 0, 1)
    assert totals.time == 42.5  # <testsuites time> 12.5 + bare <testsuite time> 30
    assert totals.files == ("junit-green.xml", "junit-more.xml")
    assert totals.ok
    assert totals.failures == ()


def test_failures_and_errors_carry_their_messages() -> None:
    totals = read_junit([DATA / "junit-failures.xml"], DATA)
    assert (totals.passed, totals.failed, totals.errors, totals.skipped) == (1, 3, 1, 1)
    assert not totals.ok
    by_name = {f.name: f for f in totals.failures}
    status = by_name["tests.test_api.test_status"]
    assert status.kind == "failed"
    assert status.message == "AssertionError: assert 500 == 200"
    assert "tests/test_api.py:12: AssertionError" in status.details
    migrate = by_name["tests.test_db.test_migrate"]
    assert migrate.kind == "error"
    assert migrate.message.startswith("ConnectionRefusedError")
    assert by_name["tests.test_db.test_seed"].details == ""


def test_counts_come_from_test_cases_not_from_suite_attributes(tmp_path: Path) -> None:
    lying = tmp_path / "lying.xml"
    lying.write_text('<testsuite tests="100" failures="50"><testcase name="a"/>'
                     '<testcase name="b"><failure/></testcase></testsuite>')
    totals = read_junit([lying], tmp_path)
    assert (totals.passed, totals.failed) == (1, 1)
    assert totals.time == 0.0  # no time anywhere
    assert totals.failures[0].name == "b"


def test_nested_suites_and_case_times_without_suite_time(tmp_path: Path) -> None:
    nested = tmp_path / "nested.xml"
    nested.write_text('<testsuites><testsuite name="outer"><testsuite name="inner">'
                      '<testcase name="a" time="1.5"/><testcase name="b" time="2,000.5"/>'
                      '<testcase name="c" time="nan"/></testsuite></testsuite></testsuites>')
    totals = read_junit([nested], tmp_path)
    assert totals.passed == 3
    assert totals.time == 2002.0


@pytest.mark.parametrize(("name", "why"), [
    ("bomb.xml", "declares a DOCTYPE or entities"),
    ("external-entity.xml", "declares a DOCTYPE or entities"),
    ("truncated.xml", "not well-formed XML"),
    ("not-junit.xml", "the root element is <html>"),
])
def test_unusable_files_are_listed_not_fatal(name: str, why: str) -> None:
    totals = read_junit([DATA / "junit-green.xml", DATA / name], DATA)
    assert totals.passed == 5
    [(file, reason)] = totals.unreadable
    assert file == name
    assert why in reason
    assert not totals.ok


def test_the_billion_laughs_is_refused_before_any_expansion() -> None:
    with pytest.raises(UnreadableReport, match="DOCTYPE"):
        parse_xml((DATA / "bomb.xml").read_bytes())
    # Even an internal subset without entities is refused: no result file needs one.
    with pytest.raises(UnreadableReport, match="DOCTYPE"):
        parse_xml(b'<!DOCTYPE testsuite><testsuite/>')


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    totals = read_junit([tmp_path / "gone.xml"], tmp_path)
    assert totals.unreadable == (("gone.xml", "No such file or directory"),)


# ----- Cobertura ---------------------------------------------------------------------------


def test_coverage_totals_from_attributes_and_from_lines() -> None:
    one = read_coverage([DATA / "coverage.xml"], DATA)
    assert (one.line_rate, one.branch_rate) == (0.812, 0.6)
    lines = read_coverage([DATA / "coverage-lines.xml"], DATA)
    c = lines.counts
    # Line 1 is listed under the method and the class: counted once.
    assert (c.lines_covered, c.lines_valid, c.branches_covered, c.branches_valid) == (3, 4, 1, 2)
    both = read_coverage([DATA / "coverage.xml", DATA / "coverage-lines.xml"], DATA)
    assert both.counts.lines_covered == 815
    assert both.counts.lines_valid == 1004
    assert both.files == ("coverage.xml", "coverage-lines.xml")


def test_coverage_refuses_junit_and_nonsense(tmp_path: Path) -> None:
    odd = tmp_path / "odd.xml"
    odd.write_text('<coverage lines-covered="5" lines-valid="3"/>')
    result = read_coverage([DATA / "junit-green.xml", odd, DATA / "bomb.xml"], DATA)
    assert [why for _, why in result.unreadable] == [
        "the root element is <testsuites>, not Cobertura's <coverage>",
        "it says more lines or branches are covered than exist",
        "it declares a DOCTYPE or entities, which result files never need (refused: "
        "entities can expand into an XML bomb or read local files)",
    ]
    assert result.line_rate is None
    assert result.files == ()


def test_no_branches_means_no_branch_rate(tmp_path: Path) -> None:
    plain = tmp_path / "plain.xml"
    plain.write_text('<coverage lines-covered="1" lines-valid="2"/>')
    result = read_coverage([plain], tmp_path)
    assert (result.line_rate, result.branch_rate) == (0.5, None)
    assert "Branches" not in render_comment(CommentData(coverage=result))


# ----- globs -------------------------------------------------------------------------------


def test_globs_relative_absolute_recursive_and_unmatched(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/one.xml", "a/b/two.xml", "three.xml"):
        (tmp_path / name).write_text("<testsuite/>")
    found = expand_globs(["**/*.xml", f"{tmp_path}/three.xml", "a", "none/*.xml"], tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in found.paths] == [
        "a/b/two.xml", "a/one.xml", "three.xml"]  # each once, folders ignored
    assert found.unmatched == ("a", "none/*.xml")


# ----- needs -------------------------------------------------------------------------------


def test_ready_to_merge_only_when_every_job_succeeded() -> None:
    green = parse_needs({"build": {"result": "success", "outputs": {}},
                         "test": {"result": "success", "outputs": {"x": "1"}}})
    assert verdict(green).ready
    assert verdict(green).headline == "✅ Ready to merge"
    for other in ("failure", "cancelled", "skipped"):
        jobs = (*green, JobResult("late", other))
        decision = verdict(jobs)
        assert not decision.ready, other
        assert decision.headline == "❌ Not ready to merge"
        assert "`late`" in decision.explanation


def test_failing_tests_in_a_successful_job_are_not_ready() -> None:
    decision = verdict(parse_needs({"test": {"result": "success"}}), failing_tests=2)
    assert not decision.ready
    assert decision.explanation == "The job succeeded. 2 tests failed (below)."


@pytest.mark.parametrize("data", [[], "x", {}, {"a": "success"}, {"a": {"result": "ok"}},
                                  {"a": {"outputs": {}}}, None])
def test_needs_that_is_not_toJSON_needs_is_refused(data: object) -> None:
    with pytest.raises(ValueError, match="toJSON"):
        parse_needs(data)


# ----- untrusted text ----------------------------------------------------------------------


def test_hostile_test_names_and_messages_stay_inert() -> None:
    failure = Failure(
        name="t`x`| [a](http://evil.example) @octocat\n## H",
        kind="failed",
        message="```\n</details>\n# Heading @team ![i](http://evil.example/i.png)\x00",
        details="",
        file="r.xml",
    )
    text = render_failure(failure)
    head, _, block = text.partition("\n\n")
    # The name is one code span on the heading line: no link, no mention, no heading.
    assert head.startswith("**``t`x`| [a](http://evil.example) @octocat ## H``**")
    # The message is in a fence longer than any backtick run inside it.
    assert block.startswith("````text\n```\n</details>")
    assert block.endswith("\n````")
    assert "\x00" not in text


# ----- truncation --------------------------------------------------------------------------


def _closed(text: str) -> bool:
    state = _BlockState()
    for line in text.splitlines(keepends=True):
        state.feed(line)
    return state.fence is None and state.details == 0


def test_short_text_is_untouched() -> None:
    assert fit_comment("hello\n", 10, "NOTE") == "hello\n"


def test_cut_at_a_line_with_the_fence_and_details_closed() -> None:
    note = truncation_note("https://example.test/run/1")
    body = "intro\n<details><summary>s</summary>\n\n```text\n" + "".join(
        f"line {i:05d}\n" for i in range(10_000)) + "```\n\n</details>\n"
    fitted = fit_comment(body, LIMIT, note)
    assert len(fitted) <= LIMIT
    assert fitted.endswith(note)
    assert "[job summary](https://example.test/run/1)" in fitted
    kept = fitted[: fitted.index("```\n\n</details>\n")]
    assert body.startswith(kept)
    assert kept.endswith("\n")
    assert _closed(fitted)
    assert len(fitted) > LIMIT - 200  # it used the room


def test_tilde_and_long_fences_and_a_fence_that_is_not_closed_by_a_shorter_one() -> None:
    body = "~~~~\n" + "x\n" * 100 + "~~~\n" + "y\n" * 100
    fitted = fit_comment(body, 150, "\nN\n")
    assert fitted.endswith("~~~~\n\nN\n")
    assert _closed(fitted)


def test_random_documents_always_fit_and_stay_closed() -> None:
    rng = random.Random(5)
    pieces = ["text line", "```", "````python", "~~~", "<details><summary>x</summary>",
              "</details>", "", "| a | b |", "```` ", "   ```", "💥 unicode ✓"]
    note = truncation_note("")
    for _ in range(300):
        body = "\n".join(rng.choice(pieces) for _ in range(rng.randrange(1, 400))) + "\n"
        room = rng.randrange(len(note), 3_000)
        fitted = fit_comment(body, room, note)
        assert len(fitted) <= room
        if len(body) <= room:
            assert fitted == body
            continue
        assert fitted.endswith(note)
        assert _closed(fitted), (body, fitted)  # whatever the kept part opened is closed


def test_one_enormous_line_leaves_only_the_note() -> None:
    note = truncation_note("")
    assert fit_comment("x" * (LIMIT * 2), LIMIT, note) == note


def test_render_keeps_the_users_markdown_as_is() -> None:
    body = "## Preview\n\n[open](https://preview.example) for @octo/reviewers\n"
    assert render_comment(CommentData(body=body)) == body


def test_no_sections_renders_nearly_nothing() -> None:
    assert re.fullmatch(r"\s*", render_comment(CommentData()))
