"""Reading JUnit, Cobertura and `toJSON(needs)`, and fitting a comment under GitHub's
limit: the pure parts of pr-comment."""

from __future__ import annotations

import random
import re
import threading
from pathlib import Path

import pytest

from stackci.report.comment import (
    CommentData,
    Unmatched,
    fit_comment,
    render_comment,
    render_failure,
    truncation_note,
)
from stackci.report.coverage import read_coverage
from stackci.report.files import expand_globs
from stackci.report.junit import Failure, read_junit
from stackci.report.junit import TestTotals as Totals
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


_OPENING_FENCE = re.compile(r" {0,3}(?P<fence>`{3,}(?=[^`]*$)|~{3,})")


def _closed(text: str) -> bool:
    """Whether `text` leaves no code fence and no `<details>` open, judged by rules
    written out here from CommonMark, independently of `_BlockState`:
    a fence opens with 3+ backticks (no backtick in its info string) or 3+ tildes,
    indented at most 3 spaces, and is closed only by a line of the same character, at
    least as long, with nothing but spaces after it; inside a fence nothing else counts.
    Outside one, an HTML block starting `<details` or `</details>` (indented at most 3
    spaces) opens or closes a section; the same text inside a paragraph or a code span
    does not."""
    fence = ""
    depth = 0
    for line in text.split("\n"):
        if fence:
            stripped = line.strip(" ")
            if (line.startswith(fence[0]) or line[:4].strip(" ").startswith(fence[0])) and (
                    set(stripped) == {fence[0]} and len(stripped) >= len(fence)
                    and len(line) - len(line.lstrip(" ")) <= 3):
                fence = ""
            continue
        opening = _OPENING_FENCE.match(line)
        if opening:
            fence = opening.group("fence")
            continue
        indent = len(line) - len(line.lstrip(" "))
        html = line.lstrip(" ")
        if indent <= 3 and (html.startswith("<details") or html.startswith("</details>")):
            depth += len(re.findall(r"<details[\s>]", html)) - html.count("</details>")
            depth = max(depth, 0)
    return not fence and depth == 0


def test_the_independent_judge_itself() -> None:
    assert _closed("a\n```py\nx\n```\n")
    assert not _closed("```py\nx\n``\n")
    assert not _closed("````\n```\n")
    assert _closed("~~~\n```\n~~~~\n")
    assert not _closed("<details><summary>s</summary>\n\nx\n")
    assert _closed("<details><summary>s</summary>\n\n**`</details>`** x\n\n</details>\n")
    assert not _closed("<details><summary>s</summary>\n\n**`</details>`** x\n")
    assert _closed("```\n<details>\n```\n")


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


# ----- hostile numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("attrs", [
    'lines-covered="²" lines-valid="3"',  # isdigit() says yes, int() says no
    'lines-covered="٣" lines-valid="3"',  # an Arabic-Indic digit
    f'lines-covered="{"9" * 5000}" lines-valid="{"9" * 5000}"',  # past int()'s digit limit
    'lines-covered="1" lines-valid="1" branches-covered="²" branches-valid="2"',
])
def test_coverage_numbers_that_are_not_plain_digits_make_the_file_unusable(
    tmp_path: Path, attrs: str
) -> None:
    odd = tmp_path / "odd.xml"
    odd.write_text(f"<coverage {attrs}/>", encoding="utf-8")
    result = read_coverage([odd, DATA / "coverage.xml"], tmp_path)
    assert [name for name, _ in result.unreadable] == ["odd.xml"]
    assert result.counts.lines_valid == 1000  # the good file still counts


def test_hostile_condition_coverage_makes_the_file_unusable(tmp_path: Path) -> None:
    odd = tmp_path / "odd.xml"
    odd.write_text('<coverage><packages><package><classes><class filename="a.py"><lines>'
                   f'<line number="1" hits="1" branch="true" condition-coverage="50% '
                   f'({"1" * 5000}/{"2" * 5000})"/></lines></class></classes></package>'
                   "</packages></coverage>")
    result = read_coverage([odd], tmp_path)
    assert [name for name, _ in result.unreadable] == ["odd.xml"]


def test_huge_test_times_never_overflow(tmp_path: Path) -> None:
    for name in ("a.xml", "b.xml"):
        (tmp_path / name).write_text('<testsuite time="1e308"><testcase name="t" time="1e308"/>'
                                     "</testsuite>")
    (tmp_path / "c.xml").write_text('<testsuite><testcase name="t" time="1e308"/>'
                                    '<testcase name="u" time="1e308"/></testsuite>')
    totals = read_junit([tmp_path / n for n in ("a.xml", "b.xml", "c.xml")], tmp_path)
    assert totals.passed + len(totals.unreadable) >= 3
    text = render_comment(CommentData(tests=totals))  # no OverflowError
    assert "### " in text


def test_globs_do_not_follow_symlinked_folders(tmp_path: Path) -> None:
    """`results/a -> ..` (and a link to itself) would make a recursive walk that follows
    links loop until the path is too long: exponentially many paths with two links."""
    results = tmp_path / "results"
    (results / "sub").mkdir(parents=True)
    (results / "sub" / "one.xml").write_text("<testsuite/>")
    (results / "up").symlink_to("..")
    (results / "self").symlink_to(".")
    (results / "sub" / "back").symlink_to("../..")
    (results / "file-link.xml").symlink_to("sub/one.xml")  # a file link is a file
    found: list[object] = []
    worker = threading.Thread(target=lambda: found.append(
        expand_globs(["results/**/*.xml", "**/one.xml"], tmp_path)), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "the glob followed a symlink loop"
    [matched] = found
    assert [p.relative_to(tmp_path).as_posix() for p in matched.paths] == [  # type: ignore[attr-defined]
        "results/file-link.xml", "results/sub/one.xml"]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("*.xml", ["top.xml"]),
    ("**/*.xml", ["a/b/deep.xml", "a/mid.xml", "top.xml"]),
    ("a/**/*.xml", ["a/b/deep.xml", "a/mid.xml"]),
    ("a/*/deep.xml", ["a/b/deep.xml"]),
    ("a/b/deep.xml", ["a/b/deep.xml"]),
    ("a/**", ["a/b/deep.xml", "a/mid.xml", "a/notes.txt"]),
    ("?op.xml", ["top.xml"]),
    ("[st]op.xml", ["top.xml"]),
    ("**/*hidden.xml", []),  # like glob: hidden names need a pattern that starts with `.`
    ("**/.hidden.xml", ["a/.hidden.xml"]),
    ("a/.*.xml", ["a/.hidden.xml"]),
    ("../*/top.xml", None),  # outside the base: relative to it, still found
])
def test_glob_semantics(tmp_path: Path, pattern: str, expected: list[str] | None) -> None:
    base = tmp_path / "ws"
    (base / "a" / "b").mkdir(parents=True)
    for name in ("top.xml", "a/mid.xml", "a/b/deep.xml", "a/.hidden.xml", "a/notes.txt"):
        (base / name).write_text("<testsuite/>")
    found = expand_globs([pattern], base)
    if expected is None:
        assert [p.resolve() for p in found.paths] == [(base / "top.xml").resolve()]
        return
    assert [p.relative_to(base).as_posix() for p in found.paths] == expected
    assert found.unmatched == (() if expected else (pattern,))


def test_test_names_that_look_like_details_tags_do_not_confuse_the_cut() -> None:
    """A test named `</details>` (the name comes from PR code) sits in a code span on
    its line: it neither opens nor closes the failures section, so a cut inside the
    section still closes it."""
    failures = tuple(Failure(name=f"t{i} </details>", kind="failed",
                             message="m" * 2_000, details="", file="r.xml")
                     for i in range(10))
    text = render_comment(CommentData(tests=Totals(failed=10, failures=failures,
                                                       files=("r.xml",))))
    note = truncation_note("")
    fitted = fit_comment(text, 9_000, note)
    assert fitted.endswith(note)
    assert "\n</details>\n" in fitted
    assert _closed(fitted), fitted


def test_a_cut_inside_the_failures_closes_fence_and_section_exactly() -> None:
    body = ("<details><summary>f</summary>\n\n**`</details>`** failed\n\n"
            "```text\n" + "".join(f"l{i}\n" for i in range(100)) + "```\n\n</details>\n")
    fitted = fit_comment(body, 120, "\nN\n")
    assert fitted == ("<details><summary>f</summary>\n\n**`</details>`** failed\n\n"
                      "```text\nl0\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\n```\n\n</details>\n\nN\n")
    assert len(fitted) == 117  # "l11\n" would make 121


@pytest.mark.parametrize(("tests", "unmatched", "says"), [
    (Totals(passed=3, files=("a.xml",), unreadable=(("b.xml", "not well-formed XML"),)), (),
     "1 JUnit file could not be read"),
    (Totals(passed=3, files=("a.xml",)), ("results/missing-*.xml",),
     "1 JUnit pattern matched no file"),
])
def test_test_results_that_cannot_be_read_do_not_make_a_pr_ready(
    tests: Totals, unmatched: tuple[str, ...], says: str
) -> None:
    """Green jobs and the tests that could be read all passed; but a result file that
    could not be read, or a pattern that found nothing, may hide failures."""
    jobs = parse_needs({"test": {"result": "success"}})
    text = render_comment(CommentData(jobs=jobs, tests=tests,
                                      unmatched=Unmatched(junit=unmatched)))
    assert "Ready to merge" not in text.replace("Not ready to merge", "")
    assert "### ❌ Not ready to merge" in text
    assert says in text
    assert not verdict(jobs, unconfirmed=1).ready
