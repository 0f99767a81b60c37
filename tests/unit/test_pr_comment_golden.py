"""pr-comment's Markdown, compared with golden files under tests/golden/pr-comment/.
After an intended change: scripts/regen-golden.sh, then review the diff."""

from __future__ import annotations

from pathlib import Path

from stackci.core.github.sticky import MAX_COMMENT_CHARS, hidden_marker
from stackci.core.runner.jobs import Allowances
from stackci.report.comment import (
    CommentData,
    Footer,
    Unmatched,
    fit_comment,
    fork_summary,
    render_comment,
    report_summary,
    truncation_note,
)
from stackci.report.coverage import read_coverage
from stackci.report.junit import read_junit
from stackci.report.needs import parse_needs

DATA = Path(__file__).resolve().parents[1] / "data" / "pr-comment"
RUN_URL = "https://github.com/octo/app/actions/runs/123456"
FOOTER = Footer(RUN_URL, "42", "CI", "3f2a9c1d4e5b6a7980a1b2c3d4e5f60718293a4b")


def all_green() -> str:
    return render_comment(CommentData(
        body="Preview: https://pr-7.preview.example",
        jobs=parse_needs({"build": {"result": "success", "outputs": {"image": "app:7"}},
                          "lint": {"result": "success", "outputs": {}},
                          "integration": {"result": "success", "outputs": {}}}),
        tests=read_junit([DATA / "junit-green.xml", DATA / "junit-more.xml"], DATA),
        coverage=read_coverage([DATA / "coverage.xml"], DATA),
        footer=FOOTER,
    ))


def test_all_green(golden) -> None:
    text = all_green()
    assert "### ✅ Ready to merge" in text
    golden("pr-comment/all-green.md", text)


def test_failures_with_a_collapsible_list(golden) -> None:
    text = render_comment(CommentData(
        jobs=parse_needs({"build": {"result": "success", "outputs": {}},
                          "integration": {"result": "failure", "outputs": {}},
                          "deploy-preview": {"result": "skipped", "outputs": {}}}),
        tests=read_junit([DATA / "junit-failures.xml", DATA / "truncated.xml"], DATA),
        coverage=read_coverage([DATA / "coverage-lines.xml"], DATA),
        unmatched=Unmatched(junit=("e2e/results/*.xml",)),
        footer=FOOTER,
    ))
    assert "### ❌ Not ready to merge" in text
    assert "<details open><summary>❌ 4 failing tests</summary>" not in text  # > 3: closed
    assert "<details><summary>❌ 4 failing tests</summary>" in text
    golden("pr-comment/failures.md", text)


def test_truncated_body(golden) -> None:
    log = "".join(f"{i:05d} GET /api/items/{i} 200 {i % 97} ms\n" for i in range(3_000))
    body = (f"## Load test\n\n<details><summary>Request log</summary>\n\n```text\n{log}```"
            "\n\n</details>")
    full = render_comment(CommentData(body=body, footer=FOOTER))
    marker = hidden_marker("pr-comment", "CI/report")
    room = MAX_COMMENT_CHARS - len(marker) - 1  # what StickyComment leaves for the body
    text = fit_comment(full, room, truncation_note(RUN_URL))
    assert len(full) > MAX_COMMENT_CHARS >= len(marker) + 1 + len(text)
    assert text.endswith(truncation_note(RUN_URL))
    golden("pr-comment/truncated.md", text)


def test_fork_fallback_summary(golden) -> None:
    text = fork_summary(7, all_green())
    assert "`workflow_run`" in text
    assert "pull_request_target" in text
    golden("pr-comment/fork-summary.md", text)


def test_allowed_skips_and_failures(golden) -> None:
    """An allowed skip and an allowed failure keep it green, and the table says so."""
    text = render_comment(CommentData(
        jobs=parse_needs({"build": {"result": "success"}, "unit": {"result": "success"},
                          "docs": {"result": "skipped"}, "nightly-db": {"result": "failure"}}),
        tests=read_junit([DATA / "junit-green.xml"], DATA),
        allowances=Allowances(skips=frozenset({"docs"}), failures=frozenset({"nightly-db"})),
        footer=FOOTER,
    ))
    assert "### ✅ Ready to merge" in text
    golden("pr-comment/allowed.md", text)


def test_push_without_a_token_summary(golden) -> None:
    """A push, no token: the report is the job summary, worded for the pipeline."""
    report = render_comment(CommentData(
        jobs=parse_needs({"build": {"result": "success"}, "integration": {"result": "success"}}),
        tests=read_junit([DATA / "junit-failures.xml"], DATA),
        for_pull=False,
        footer=FOOTER,
    ))
    text = report_summary(report, "<sub>Not posted as a comment: no `github-token` was "
                                  "given.</sub>")
    assert "### ❌ Not green" in text
    golden("pr-comment/push-summary.md", text)
