"""The pipeline report, as the pull request's sticky comment and as the job summary:
needs verdict, the user's Markdown, test results, coverage, a footer. Pure: data in,
Markdown out.

Text from outside is handled by kind: the user's own body (`body`/`body-file`) is their
Markdown and kept as is; everything read from result files (test names, failure
messages, file names) and job names goes through `stackci.core.text.markdown`, fenced or
escaped, so it cannot close a fence or a `<details>`, link, embed images or @mention.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from stackci.core.runner.forks import FORK_COMMENT_ADVICE
from stackci.core.runner.workflow import SUMMARY_LIMIT
from stackci.core.text import markdown as md
from stackci.report.coverage import CoverageTotals
from stackci.report.junit import Failure, TestTotals
from stackci.report.needs import NO_ALLOWANCES, Allowances, JobResult, Verdict, verdict

# Enough to act on; the rest is in the test report itself.
MAX_FAILURES_LISTED = 50
MAX_FAILURE_LINES = 40
MAX_FAILURE_CHARS = 3_000


@dataclass(frozen=True)
class Footer:
    run_url: str = ""
    run_number: str = ""
    workflow: str = ""
    sha: str = ""


@dataclass(frozen=True)
class Unmatched:
    """Result-file patterns that matched nothing, by section."""

    junit: tuple[str, ...] = ()
    coverage: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommentData:
    body: str | None = None  # the user's Markdown, kept as is
    jobs: tuple[JobResult, ...] | None = None
    tests: TestTotals | None = None
    coverage: CoverageTotals | None = None
    unmatched: Unmatched = field(default_factory=Unmatched)
    footer: Footer = field(default_factory=Footer)
    allowances: Allowances = NO_ALLOWANCES  # allowed-skips, allowed-failures
    for_pull: bool = True  # the run is about a pull request: "Ready to merge"


def judge(data: CommentData) -> Verdict | None:
    """The verdict on the jobs and the tests (the one the comment shows and the gate
    applies); None when there is neither."""
    if data.jobs is None and data.tests is None:
        return None
    failing, unconfirmed, why = _test_doubts(data)
    return verdict(data.jobs, failing, unconfirmed, why, allowances=data.allowances,
                   for_pull=data.for_pull)


def render_comment(data: CommentData) -> str:
    sections = []
    decision = judge(data)
    if data.jobs is not None and decision is not None:
        sections.append(render_needs(data.jobs, decision, data.allowances))
    if data.body and data.body.strip():
        sections.append(data.body.strip("\n"))
    if data.tests is not None:
        sections.append(render_tests(data.tests, data.unmatched.junit))
    if data.coverage is not None:
        sections.append(render_coverage(data.coverage, data.unmatched.coverage))
    footer = render_footer(data.footer)
    if footer:
        sections.append(footer)
    return "\n\n".join(sections) + "\n"


# -- needs ------------------------------------------------------------------------------
def _test_doubts(data: CommentData) -> tuple[tuple[str, ...], int, str]:
    """The names of the failing tests, and the JUnit sources that could not be read
    (files that are not usable, patterns that matched nothing) with a phrase saying so."""
    if data.tests is None:
        return (), 0, ""
    failing = tuple(f.name for f in data.tests.failures)
    unreadable, unmatched = len(data.tests.unreadable), len(data.unmatched.junit)
    parts = []
    if unreadable:
        parts.append(f"{_count(unreadable, 'JUnit file')} could not be read")
    if unmatched:
        parts.append(f"{_count(unmatched, 'JUnit pattern')} matched no file")
    return failing, unreadable + unmatched, " and ".join(parts)


ALLOWED = {"skipped": "allowed to be skipped", "failure": "allowed to fail",
           "cancelled": "allowed to fail"}


def render_needs(jobs: tuple[JobResult, ...], decision: Verdict | None = None,
                 allowances: Allowances = NO_ALLOWANCES) -> str:
    """The verdict and a table of the jobs; a job that did not succeed but was allowed
    not to says so."""
    decision = decision or verdict(jobs, allowances=allowances)

    def result(job: JobResult) -> str:
        allowed = allowances.judge(job) == "allowed"
        note = f" ({ALLOWED.get(job.result, 'allowed')})" if allowed else ""
        return f"{job.icon} {job.result}{note}"

    rows = [(md.cell_code(j.job), result(j)) for j in jobs]
    return (f"### {decision.headline}\n\n{decision.explanation}\n\n"
            + md.table(["Job", "Result"], rows))


# -- tests ------------------------------------------------------------------------------
def render_tests(tests: TestTotals, unmatched: tuple[str, ...]) -> str:
    icon = "✅" if tests.ok and tests.total else ("❌" if not tests.ok else "⚠️")
    parts = [f"### {icon} Tests"]
    if tests.files:
        row = (f"{tests.passed:,}", f"{tests.failed:,}", f"{tests.errors:,}",
               f"{tests.skipped:,}", duration(tests.time))
        parts.append(md.table(["✅ Passed", "❌ Failed", "💥 Errors", "⏭️ Skipped", "⏱️ Time"],
                              [row])
                     + f"\n\n{tests.total:,} tests in {_count(len(tests.files), 'file')}.")
    parts += _problems(unmatched, tests.unreadable, "JUnit")
    if tests.failures:
        parts.append(render_failures(tests.failures))
    return "\n\n".join(parts)


def render_failures(failures: tuple[Failure, ...]) -> str:
    listed = failures[:MAX_FAILURES_LISTED]
    blocks = [render_failure(f) for f in listed]
    if len(failures) > len(listed):
        blocks.append(f"… and {len(failures) - len(listed):,} more not listed here.")
    title = _count(len(failures), "failing test")
    return md.details(f"❌ {title}", "\n\n".join(blocks), open_=len(failures) <= 3)


def render_failure(failure: Failure) -> str:
    head = (f"**{md.inline_code(clean(failure.name))}** {failure.kind} "
            f"(in {md.inline_code(clean(failure.file))})")
    text = failure_text(failure)
    return head + ("\n\n" + md.code_block(text, "text") if text else "")


def failure_text(failure: Failure) -> str:
    """The message, then the details (unless they repeat it), trimmed to a readable size."""
    message, details = clean(failure.message), clean(failure.details)
    text = details if message and message in details else "\n\n".join(
        t for t in (message, details) if t)
    lines = text.splitlines()
    if len(lines) > MAX_FAILURE_LINES:
        text = "\n".join(lines[:MAX_FAILURE_LINES]) + (
            f"\n… {len(lines) - MAX_FAILURE_LINES} more lines")
    if len(text) > MAX_FAILURE_CHARS:
        text = text[:MAX_FAILURE_CHARS].rstrip() + "\n… (cut)"
    return text


# -- coverage ---------------------------------------------------------------------------
def render_coverage(coverage: CoverageTotals, unmatched: tuple[str, ...]) -> str:
    parts = ["### 📊 Coverage"]
    if coverage.files:
        c = coverage.counts
        rows = [("Lines", f"{c.lines_covered:,} / {c.lines_valid:,}", percent(coverage.line_rate))]
        if c.branches_valid:
            rows.append(("Branches", f"{c.branches_covered:,} / {c.branches_valid:,}",
                         percent(coverage.branch_rate)))
        parts.append(md.table(["", "Covered", "Rate"], rows)
                     + f"\n\nFrom {_count(len(coverage.files), 'file')}.")
    parts += _problems(unmatched, coverage.unreadable, "Cobertura")
    return "\n\n".join(parts)


# -- shared -----------------------------------------------------------------------------
def render_footer(footer: Footer) -> str:
    bits = []
    if footer.run_url:
        label = f"run {footer.run_number}" if footer.run_number else "workflow run"
        workflow = f" of {md.escape(footer.workflow)}" if footer.workflow else ""
        bits.append(f"[{label}]({footer.run_url}){workflow}")
    if re.fullmatch(r"[0-9a-f]{7,64}", footer.sha):
        bits.append(f"commit {footer.sha[:7]}")
    return f"<sub>Updated by {' · '.join(bits)}</sub>" if bits else ""


def _problems(unmatched: tuple[str, ...], unreadable: tuple[tuple[str, str], ...],
              kind: str) -> list[str]:
    lines = [f"- ⚠️ No file matched {md.inline_code(clean(p))}." for p in unmatched]
    lines += [f"- ⚠️ {md.inline_code(clean(name))} is not usable {kind} XML: "
              f"{md.escape(clean(why))}" for name, why in unreadable]
    return ["\n".join(lines)] if lines else []


clean = md.clean_text  # untrusted text of several lines


def duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} m {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} m"


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


# -- the job summary -------------------------------------------------------------------
def posted_summary(headline: str, comment: str) -> str:
    """The job summary: what happened, then the comment's full text (never cut there, so
    a cut comment can point here)."""
    return f"### {headline}\n\n{comment.rstrip()}\n"


def report_summary(comment: str, note: str = "") -> str:
    """The job summary when no comment was asked of GitHub (no token): the report, and
    `note` (Markdown) saying why it is only here."""
    said = f"{note}\n\n" if note else ""
    return f"### 📋 Pipeline report\n\n{said}{comment.rstrip()}\n"


def fork_summary(number: int, comment: str) -> str:
    """The job summary when the token is read-only (a pull request from a fork)."""
    return (
        f"### 💬 Comment for #{number} (not posted: the token is read-only)\n\n"
        f"> [!WARNING]\n> This comment is shown here instead of on the pull request. "
        f"{FORK_COMMENT_ADVICE}\n\n"
        f"{comment.rstrip()}\n"
    )


# -- truncation -------------------------------------------------------------------------
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_DETAILS_LINE = re.compile(r" {0,3}</?details[\s>]")


def truncation_note(run_url: str, whole_in_summary: bool = True) -> str:
    """The note under a cut comment. `whole_in_summary`: whether the job summary (1 MiB
    at most) holds the full text; when it does not, the note does not promise it."""
    where = f"the [job summary]({run_url})" if run_url else "the job summary of the run"
    if not whole_in_summary:
        return (f"\n> [!NOTE]\n> This comment was cut at GitHub's 65,536-character limit. "
                f"The full text is too long for the job summary as well (1 MiB): {where} "
                "has as much of it as fits.\n")
    return (f"\n> [!NOTE]\n> This comment was cut at GitHub's 65,536-character limit. The "
            f"full text is in {where}.\n")


def fits_summary(comment: str) -> bool:
    """Whether the job summary can hold `comment` whole (with room for its headline)."""
    return len(comment.encode("utf-8")) <= SUMMARY_LIMIT - 4_096


def fit_comment(text: str, room: int, note: str) -> str:
    """`text` if it fits in `room` characters; otherwise its longest prefix of whole
    lines that fits together with what closes it (open code fences, open `<details>`)
    and `note`."""
    if len(text) <= room:
        return text
    state = _BlockState()
    kept, ending = 0, note  # nothing fits: the note alone
    used = 0
    for line in text.splitlines(keepends=True):
        used += len(line)
        if used > room:
            break
        state.feed(line)
        closing = ("" if line.endswith("\n") else "\n") + state.closing() + note
        if used + len(closing) <= room:
            kept, ending = used, closing
    return (text[:kept] + ending)[:room]


class _BlockState:
    """Which code fence and how many `<details>` are open after the lines fed so far.

    Only an HTML block counts as a section: a line that starts (indented at most three
    spaces) with `<details` or `</details>`, as `markdown.details` writes them. The same
    text anywhere else (a test named `</details>` in a code span, a paragraph) is not
    structure, and counting it would leave the failures section unclosed after a cut."""

    def __init__(self) -> None:
        self.fence: str | None = None
        self.details = 0

    def feed(self, line: str) -> None:
        match = _FENCE.match(line.rstrip("\n"))
        if self.fence is None:
            if match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
                self.fence = match.group(1)
                return
            if _DETAILS_LINE.match(line):
                self.details += len(re.findall(r"<details[\s>]", line))
                self.details = max(self.details - line.count("</details>"), 0)
        elif match and match.group(1)[0] == self.fence[0] and (
                len(match.group(1)) >= len(self.fence)) and not match.group(2).strip():
            self.fence = None

    def closing(self) -> str:
        fence = f"{self.fence}\n" if self.fence else ""
        return fence + "\n</details>\n" * self.details
