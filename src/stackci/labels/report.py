"""What the gate looked at and decided (`Report`), and its Markdown: the job summary
and the explanation comment. Pure: data in, Markdown out, so golden files pin them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from stackci.core.text import markdown as md
from stackci.labels.rules import PrLabel, PushTime, Rules, Verdict, evaluate, matches_any, plain

Outcome = Literal["open", "skipped", "failed", "no-pr"]


@dataclass(frozen=True)
class PullInfo:
    number: int
    title: str
    url: str


@dataclass(frozen=True)
class Report:
    """Everything the summary and the comment show; built once, rendered twice."""

    rules: Rules
    labels: tuple[PrLabel, ...]
    verdict: Verdict
    outcome: Outcome
    on_mismatch: str
    pull: PullInfo | None = None
    fresh_labels: bool = False
    push: PushTime | None = None
    no_pr_reason: str = ""
    origin: str = ""  # workflow and job, for the comment's footer

    @property
    def reason(self) -> str:
        if self.pull is None:
            judged = self.verdict.reason.removesuffix(" (has no labels)")
            return f"{self.no_pr_reason}, so there are no labels: {judged}"
        return self.verdict.reason

    @property
    def should_run(self) -> bool:
        return self.verdict.passed


def outcome_of(verdict: Verdict, on_mismatch: str, has_pull: bool) -> Outcome:
    if not has_pull:
        return "no-pr"  # nobody can label a PR that does not exist: never a failure
    if verdict.passed:
        return "open"
    return "failed" if on_mismatch == "fail" else "skipped"


def without_pull(rules: Rules, on_mismatch: str, why: str) -> Report:
    """No PR to look at: the rules are judged against no labels, and whatever they say
    is a notice, never a failure (nobody can label a PR that does not exist)."""
    return Report(rules, (), evaluate(rules, []), "no-pr", on_mismatch, no_pr_reason=why)


_HEADINGS: dict[Outcome, str] = {
    "open": "### ✅ label-gate: open",
    "skipped": "### ⏭️ label-gate: closed, gated work skipped",
    "failed": "### ❌ label-gate: closed",
    "no-pr": "### ➖ label-gate: no pull request",
}


def when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at else "no record"


def code(name: str, in_table: bool = True) -> str:
    """A name from outside as a code span: nothing in it renders, links or mentions. In a
    table cell a `|` is escaped too (GitHub unescapes it inside the span)."""
    return md.cell_code(plain(name)) if in_table else md.inline_code(plain(name))


def codes(names: Iterable[str], in_table: bool = True) -> str:
    return ", ".join(code(n, in_table) for n in names) or "none"


def rule_rows(report: Report) -> list[tuple[str, str, str]]:
    verdict, counted = report.verdict, [lb.name for lb in report.labels if lb.counts]
    rows = []
    for rule, patterns in report.rules.given():
        if rule == "all-of":
            status = (f"❌ missing {codes(verdict.missing_all)}" if verdict.missing_all
                      else "✅ all present")
        elif rule == "any-of":
            found = [n for n in counted if matches_any(patterns, n)]
            status = "❌ none present" if verdict.any_unmet else f"✅ {codes(found)}"
        else:
            status = (f"❌ present: {codes(verdict.forbidden)}" if verdict.forbidden
                      else "✅ none present")
        rows.append((f"`{rule}`", codes(patterns), status))
    return rows


def label_rows(report: Report) -> list[tuple[str, str, str]]:
    rows = []
    for label in report.labels:
        if label.counts:
            counts = "✅"
        elif label.applied_at is None:
            counts = "❌ no record of when it was applied"
        else:
            counts = "❌ applied before the latest push"
        rows.append((code(label.name), when(label.applied_at), counts))
    return rows


def pull_line(report: Report) -> str:
    pull = report.pull
    assert pull is not None
    return f"Pull request [#{pull.number}]({pull.url}): {md.escape(plain(pull.title))}"


def push_line(push: PushTime | None) -> str:
    if push is None:
        return "**Latest push:** unknown"
    return f"**Latest push:** {when(push.at)}, from {md.escape(push.source)}"


def render_details(report: Report) -> str:
    """The body shared by every outcome: the PR, the rules and the labels."""
    rules = md.table(["Rule", "Patterns", "Result"], rule_rows(report))
    if report.pull is None:  # the reason already says why there is no PR
        return rules
    parts = [pull_line(report), rules]
    if report.fresh_labels:
        parts.append(push_line(report.push) + " — with `fresh-labels`, a label counts only "
                     "when it was applied after it.")
        if report.labels:
            parts.append(md.table(["Label", "Applied", "Counts"], label_rows(report)))
    parts.append(f"**Labels on the PR now:** {codes(lb.name for lb in report.labels)}")
    return "\n\n".join(parts)


def render_summary(report: Report) -> str:
    """The job summary for an open, skipped or PR-less gate. A failed gate's summary is
    `failure_message` plus `render_details`, headed by the action handler."""
    return "\n\n".join([_HEADINGS[report.outcome],
                        f"**Why:** {md.escape(report.reason)}",
                        render_details(report)]) + "\n"


def failure_message(report: Report) -> str:
    assert report.pull is not None
    return f"PR #{report.pull.number}: {md.escape(report.reason)}"  # our own reference


def render_comment(report: Report) -> str:
    """The explanation kept on the PR while the gate is closed. It depends only on the
    rules, the labels and the push, never on the run, so an unchanged situation leaves
    the comment untouched."""
    verdict = report.verdict
    consequence = ("This check fails until then." if report.on_mismatch == "fail"
                   else "The work it guards is skipped until then.")
    todo = []
    if verdict.missing_all:
        todo.append(f"- add {codes(verdict.missing_all, False)}")
    if verdict.any_unmet:
        todo.append(f"- add one of {codes(report.rules.any_of, False)}")
    if verdict.forbidden:
        todo.append(f"- remove {codes(verdict.forbidden, False)}")
    if verdict.stale:
        todo.append(f"- apply {codes(verdict.stale, False)} again: it was applied before the "
                    f"latest push ({when(report.push.at if report.push else None)}), so it "
                    "does not cover the new commits; review them first")
    lines = [
        "### 🏷️ Label gate closed",
        "",
        md.escape(report.reason),
        "",
        "To open it:",
        *todo,
        "",
        f"{consequence} Changing labels re-runs the gate when the workflow listens to "
        "`labeled` and `unlabeled` events; otherwise re-run the job.",
        "",
        md.table(["Rule", "Patterns", "Result"], rule_rows(report)),
    ]
    if report.fresh_labels and report.labels:
        lines += ["", push_line(report.push), "",
                  md.table(["Label", "Applied", "Counts"], label_rows(report))]
    origin = f" for {md.escape(report.origin)}" if report.origin else ""
    lines += ["", f"<sub>StackCI label-gate{origin}. This comment is updated while the gate "
                  "is closed and deleted once it opens.</sub>"]
    return "\n".join(lines) + "\n"

